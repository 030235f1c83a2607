/**
 * Advisory named locks between processes, in the metadata DB (e.g. one GC at a time). A lock held
 * by a dead process is free. Not re-entrant.
 */
import type { MetadataDb } from './metadata-db.js';
import type { ProcessIdentity } from './process-identity.js';
import { currentProcess, isProcessAlive } from './process-identity.js';

export interface DbLockHandle {
  release(): void;
}

export class DbLocks {
  private readonly db: MetadataDb;
  private readonly owner: ProcessIdentity;

  constructor(opts: { readonly db: MetadataDb; readonly owner?: ProcessIdentity }) {
    this.db = opts.db;
    this.owner = opts.owner ?? currentProcess();
  }

  /** The lock, or undefined when another live process holds it. */
  tryAcquire(name: string): DbLockHandle | undefined {
    const s = this.db;
    const got = this.db.write(() => {
      const cur = s.prepare('SELECT pid, pid_start FROM locks WHERE name = ?').get(name) as { pid: number; pid_start: string } | undefined;
      if (cur && isProcessAlive({ pid: cur.pid, start: cur.pid_start })) return false;
      s.prepare('INSERT OR REPLACE INTO locks (name, pid, pid_start, acquired_at) VALUES (?, ?, ?, ?)').run(name, this.owner.pid, this.owner.start, Date.now());
      return true;
    });
    if (!got) return undefined;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.db.write(() => {
          s.prepare('DELETE FROM locks WHERE name = ? AND pid = ? AND pid_start = ?').run(name, this.owner.pid, this.owner.start);
        });
      },
    };
  }

  /** The owner of lock `name`, if someone (alive or not) holds it. */
  holder(name: string): ProcessIdentity | undefined {
    const cur = this.db.prepare('SELECT pid, pid_start FROM locks WHERE name = ?').get(name) as { pid: number; pid_start: string } | undefined;
    return cur ? { pid: cur.pid, start: cur.pid_start } : undefined;
  }

  /** Locks whose owner is dead. */
  stale(): string[] {
    return (this.db.prepare('SELECT name, pid, pid_start FROM locks ORDER BY name').all() as { name: string; pid: number; pid_start: string }[])
      .filter((l) => !isProcessAlive({ pid: l.pid, start: l.pid_start })).map((l) => l.name);
  }

  removeStale(): string[] {
    // Re-checked inside the transaction: a live process may have taken a stale lock meanwhile.
    return this.db.write(() => {
      const names = this.stale();
      for (const n of names) this.db.prepare('DELETE FROM locks WHERE name = ?').run(n);
      return names;
    });
  }
}
