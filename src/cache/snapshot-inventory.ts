/**
 * Adapts the worker's snapshotter to SnapshotInventory without importing the worker (the cache
 * layer may not): anything with stat/remove/usage/list/footprint/cleanupStale of the right shape
 * fits.
 */
import { TsbuildError } from '../util/errors.js';
import type { FootprintOptions, SignalOptions, SnapshotInventory } from './types.js';

/** The part of the worker's Snapshotter (src/worker/types.ts) the cache needs. */
export interface SnapshotterLike {
  /** Throws an error with code SNAPSHOT_NOT_FOUND for unknown ids. */
  stat(id: string): Promise<{ readonly id: string }>;
  remove(id: string, opts?: SignalOptions): Promise<void>;
  usage(id: string, opts?: SignalOptions): Promise<{ readonly bytes: number }>;
  list(): Promise<readonly { readonly id: string; readonly parent: string | undefined; readonly kind: 'active' | 'committed'; readonly createdAt: number }[]>;
  footprint(opts: FootprintOptions): Promise<{ readonly bytes: number }>;
  cleanupStale(opts?: SignalOptions & { readonly dryRun?: boolean }): Promise<{
    readonly unmounted: readonly string[];
    readonly removedSnapshots: readonly string[];
    readonly removedLeftovers: readonly string[];
  }>;
}

export function inventoryFromSnapshotter(s: SnapshotterLike, opts: { readonly overlayDir: string }): SnapshotInventory {
  const notFound = (e: unknown): boolean => e instanceof TsbuildError ? e.code === 'SNAPSHOT_NOT_FOUND' : (e as { code?: unknown } | null)?.code === 'SNAPSHOT_NOT_FOUND';
  const leftovers = async (dryRun: boolean, o: SignalOptions = {}): Promise<string[]> => {
    const r = await s.cleanupStale({ dryRun, ...(o.signal ? { signal: o.signal } : {}) });
    return [...r.unmounted, ...r.removedSnapshots.map((id) => `${opts.overlayDir}/${id}`), ...r.removedLeftovers];
  };
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
    remove: async (id, o) => {
      try {
        await s.remove(id, o);
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },
    usage: (id, o) => s.usage(id, o),
    list: async () => (await s.list()).map((x) => ({ id: x.id, parent: x.parent, createdAt: x.createdAt, active: x.kind === 'active' })),
    footprint: (o) => s.footprint(o),
    leftovers: (o) => leftovers(true, o),
    removeLeftovers: (o) => leftovers(false, o),
  };
}
