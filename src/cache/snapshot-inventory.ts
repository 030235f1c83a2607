/**
 * Adapts the worker's snapshotter to SnapshotInventory without importing the worker (the cache
 * layer may not): anything with stat/remove/usage/list of the right shape fits.
 */
import { TsbuildError } from '../util/errors.js';
import type { SignalOptions, SnapshotEntry, SnapshotInventory } from './types.js';

/** The part of the worker's Snapshotter (src/worker/types.ts) the cache needs. */
export interface SnapshotterLike {
  /** Throws an error with code SNAPSHOT_NOT_FOUND for unknown ids. */
  stat(id: string): Promise<{ readonly id: string }>;
  remove(id: string, opts?: SignalOptions): Promise<void>;
  usage(id: string, opts?: SignalOptions): Promise<{ readonly bytes: number }>;
  list(): Promise<readonly SnapshotEntry[]>;
}

export function inventoryFromSnapshotter(s: SnapshotterLike): SnapshotInventory {
  const notFound = (e: unknown): boolean => e instanceof TsbuildError ? e.code === 'SNAPSHOT_NOT_FOUND' : (e as { code?: unknown } | null)?.code === 'SNAPSHOT_NOT_FOUND';
  return {
    exists: async (id) => {
      try {
        await s.stat(id);
        return true;
      } catch (e) {
        if (notFound(e)) return false;
        throw e;
      }
    },
    remove: async (id, opts) => {
      try {
        await s.remove(id, opts);
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },
    usage: (id, opts) => s.usage(id, opts),
    list: () => s.list(),
  };
}
