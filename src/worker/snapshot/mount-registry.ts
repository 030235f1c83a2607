/**
 * Reference-counted mounts of one snapshotter: the first user mounts, later users share it, the
 * last release unmounts. Operations on one mount point are serialised: a new acquire waits for a
 * pending unmount instead of racing it.
 */
import { allSettledOrFirstError } from '../../util/parallel.js';

interface Entry {
  refs: number;
  ready: Promise<void>;
  closing: Promise<void> | undefined;
}

export interface MountActions {
  mount(): Promise<void>;
  unmount(): Promise<void>;
}

export class MountRegistry {
  private readonly entries = new Map<string, Entry>();

  /** Acquires one reference to the mount at `key`; resolves to its release function. */
  async acquire(key: string, actions: MountActions): Promise<() => Promise<void>> {
    for (;;) {
      const existing = this.entries.get(key);
      if (existing?.closing) {
        await existing.closing.catch(() => undefined);
        continue;
      }
      if (existing) {
        existing.refs++;
        try {
          await existing.ready;
        } catch (e) {
          existing.refs--;
          throw e;
        }
        return this.releaser(key, existing, actions);
      }
      const entry: Entry = { refs: 1, ready: actions.mount(), closing: undefined };
      this.entries.set(key, entry);
      try {
        await entry.ready;
      } catch (e) {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw e;
      }
      return this.releaser(key, entry, actions);
    }
  }

  /** Mount points currently held (refs > 0 or unmounting). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Whether any held mount point lies at or under `dir`. */
  hasUnder(dir: string): boolean {
    const prefix = `${dir}/`;
    return this.keys().some((k) => k === dir || k.startsWith(prefix));
  }

  /** Drops every reference and unmounts everything (shutdown). */
  async releaseAll(actionsFor: (key: string) => MountActions): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.closing) {
        pending.push(entry.closing);
        continue;
      }
      entry.refs = 0;
      pending.push(this.close(key, entry, actionsFor(key)));
    }
    await allSettledOrFirstError(pending);
  }

  private releaser(key: string, entry: Entry, actions: MountActions): () => Promise<void> {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (entry.closing) return entry.closing;
      entry.refs--;
      if (entry.refs > 0) return undefined;
      return this.close(key, entry, actions);
    };
  }

  private close(key: string, entry: Entry, actions: MountActions): Promise<void> {
    entry.closing = (async () => {
      try {
        await entry.ready.catch(() => undefined);
        await actions.unmount();
      } finally {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      }
    })();
    return entry.closing;
  }
}
