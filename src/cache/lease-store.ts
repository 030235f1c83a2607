/**
 * Operation leases. Every operation that writes to the data root (build, image load/import/pull,
 * rmi, prune) holds one while it runs, as a row owned by its process (pid + start time):
 *
 * - a *protecting* lease keeps garbage collection away from what the operation creates or reuses
 *   (blobs and snapshots stamped at or after its start) until it ends: a blob pulled but not yet
 *   named by an image, a snapshot committed but not yet recorded, are not garbage yet;
 * - any lease of a dead process says an operation was interrupted, so the next start (recovery)
 *   collects the garbage it may have left.
 */
import { randomBytes } from 'node:crypto';
import { throwIfAborted } from '../util/errors.js';
import { fsNow } from './fs-clock.js';
import type { MetadataDb } from './metadata-db.js';
import type { ProcessIdentity } from './process-identity.js';
import { currentProcess, isProcessAlive } from './process-identity.js';
import type { SignalOptions } from './types.js';

export interface Lease {
  readonly id: string;
  readonly label: string;
  /** File-system time (ms) the lease began. */
  readonly startedAt: number;
  /**
   * Keeps the lease as a crash marker only: collection no longer spares what the operation made.
   * An operation ends with its own collection under this, so a kill during it still tells the
   * next start (recovery) to collect.
   */
  stopProtecting(): void;
  /** Ends the lease. Idempotent. */
  release(): void;
}

export interface BeginLeaseOptions extends SignalOptions {
  /**
   * Keep garbage collection away from blobs and snapshots made at or after the start while the
   * lease lives. False for operations that only delete (rmi, prune): theirs is a crash marker.
   */
  readonly protects: boolean;
}

interface Row {
  id: string;
  label: string;
  pid: number;
  pid_start: string;
  protects: number;
  started_at: number;
}

export class LeaseStore {
  private readonly db: MetadataDb;
  private readonly clockDir: string;
  private readonly owner: ProcessIdentity;

  constructor(opts: { readonly db: MetadataDb; readonly clockDir: string; readonly owner?: ProcessIdentity }) {
    this.db = opts.db;
    this.clockDir = opts.clockDir;
    this.owner = opts.owner ?? currentProcess();
  }

  async begin(label: string, opts: BeginLeaseOptions): Promise<Lease> {
    throwIfAborted(opts.signal);
    const id = randomBytes(8).toString('hex');
    const startedAt = await fsNow(this.clockDir);
    this.db.write(() => {
      this.db.prepare('INSERT INTO leases (id, label, pid, pid_start, protects, started_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, label, this.owner.pid, this.owner.start, opts.protects ? 1 : 0, startedAt);
    });
    let released = false;
    return {
      id,
      label,
      startedAt,
      stopProtecting: () => {
        if (released) return;
        this.db.write(() => this.db.prepare('UPDATE leases SET protects = 0 WHERE id = ?').run(id));
      },
      release: () => {
        if (released) return;
        released = true;
        this.db.write(() => this.db.prepare('DELETE FROM leases WHERE id = ?').run(id));
      },
    };
  }

  /** Start of the earliest live protecting lease, or undefined when none runs. */
  protectingSince(): number | undefined {
    let min: number | undefined;
    for (const r of this.rows()) {
      if (r.protects === 0 || !alive(r)) continue;
      if (min === undefined || r.started_at < min) min = r.started_at;
    }
    return min;
  }

  /** Leases whose process is gone: operations that never finished. */
  dead(): { readonly id: string; readonly label: string }[] {
    return this.rows().filter((r) => !alive(r)).map((r) => ({ id: r.id, label: r.label }));
  }

  /** Deletes one dead lease (re-checked in the transaction). */
  removeDead(id: string): boolean {
    return this.db.write(() => {
      const r = this.db.prepare('SELECT * FROM leases WHERE id = ?').get(id) as Row | undefined;
      if (!r || alive(r)) return false;
      this.db.prepare('DELETE FROM leases WHERE id = ?').run(id);
      return true;
    });
  }

  private rows(): Row[] {
    return this.db.prepare('SELECT * FROM leases ORDER BY started_at, id').all() as Row[];
  }
}

function alive(r: Row): boolean {
  return isProcessAlive({ pid: r.pid, start: r.pid_start });
}
