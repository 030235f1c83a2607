/**
 * Reference counts on results (snapshots), persisted so that prune in ANY process leaves alone
 * what some process is using. Each acquire() is one holder row tagged with the owning process
 * (pid + start time); the count is the number of rows whose process is still alive, so a crashed
 * process's refs stop counting at once and cleanupDead()/repair() remove them later.
 *
 * A prune marks a result with a tombstone (in the same transaction that checked it is unheld)
 * before removing it; acquire() refuses tombstoned results, which closes the window between
 * "prune saw no refs" and "snapshot removed".
 */
import { TsbuildError, throwIfAborted } from '../util/errors.js';
import type { MetadataDb } from './metadata-db.js';
import type { ProcessIdentity } from './process-identity.js';
import { currentProcess, isProcessAlive } from './process-identity.js';
import type { AcquireOptions, RefInfo, RefLease } from './types.js';

interface HolderRow {
  id: number;
  result_id: string;
  holder: string;
  pid: number;
  pid_start: string;
}

interface RefRow {
  result_id: string;
  parent: string | null;
  size: number | null;
  last_used_at: number;
}

export interface RefStoreOptions {
  readonly db: MetadataDb;
  /** Owner recorded on new holds. Default: this process. */
  readonly owner?: ProcessIdentity;
  readonly now?: () => number;
}

export class RefStore {
  private readonly db: MetadataDb;
  private readonly owner: ProcessIdentity;
  private readonly now: () => number;

  constructor(opts: RefStoreOptions) {
    this.db = opts.db;
    this.owner = opts.owner ?? currentProcess();
    this.now = opts.now ?? Date.now;
  }

  /**
   * Takes a hold on a result. Throws CACHE_RESULT_PRUNED when a live prune is removing it (the
   * caller treats that like a cache miss). Pair with release() in a finally.
   */
  async acquire(resultId: string, holder: string, opts: AcquireOptions = {}): Promise<RefLease> {
    throwIfAborted(opts.signal);
    const s = this.db;
    const id = this.db.write(() => {
      const t = s.prepare('SELECT pid, pid_start FROM tombstones WHERE result_id = ?').get(resultId) as { pid: number; pid_start: string } | undefined;
      if (t && isProcessAlive({ pid: t.pid, start: t.pid_start })) {
        throw new TsbuildError('CACHE_RESULT_PRUNED', `result ${resultId} is being pruned`);
      }
      if (t) s.prepare('DELETE FROM tombstones WHERE result_id = ?').run(resultId);
      const now = this.now();
      s.prepare(`INSERT INTO refs (result_id, parent, size, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (result_id) DO UPDATE SET parent = COALESCE(excluded.parent, parent), size = COALESCE(excluded.size, size), last_used_at = excluded.last_used_at`)
        .run(resultId, opts.parent ?? null, opts.size ?? null, now, now);
      return Number(s.prepare('INSERT INTO ref_holders (result_id, holder, pid, pid_start, acquired_at) VALUES (?, ?, ?, ?, ?)')
        .run(resultId, holder, this.owner.pid, this.owner.start, now).lastInsertRowid);
    });
    let released = false;
    return {
      resultId,
      holder,
      release: async () => {
        if (released) return;
        released = true;
        this.db.write(() => {
          s.prepare('DELETE FROM ref_holders WHERE id = ?').run(id);
          s.prepare('UPDATE refs SET last_used_at = MAX(last_used_at, ?) WHERE result_id = ?').run(this.now(), resultId);
        });
      },
    };
  }

  /** Live reference count of a result. */
  count(resultId: string): number {
    const rows = this.db.prepare('SELECT * FROM ref_holders WHERE result_id = ?').all(resultId) as HolderRow[];
    return rows.filter(alive).length;
  }

  /** Results with at least one live holder. */
  referenced(): Set<string> {
    const out = new Set<string>();
    for (const r of this.db.prepare('SELECT * FROM ref_holders').all() as HolderRow[]) if (alive(r)) out.add(r.result_id);
    return out;
  }

  info(resultId: string): RefInfo | undefined {
    const s = this.db;
    return this.db.read(() => {
      const r = s.prepare('SELECT * FROM refs WHERE result_id = ?').get(resultId) as RefRow | undefined;
      if (!r) return undefined;
      const mine = s.prepare('SELECT * FROM ref_holders WHERE result_id = ? ORDER BY id').all(resultId) as HolderRow[];
      return {
        resultId: r.result_id,
        parent: r.parent ?? undefined,
        size: r.size ?? undefined,
        lastUsedAt: r.last_used_at,
        liveHolders: mine.filter(alive).map((h) => h.holder),
        deadHolders: mine.filter((h) => !alive(h)).map((h) => h.holder),
      };
    });
  }

  /** Every result with a ref row (held or not). */
  ids(): string[] {
    return (this.db.prepare('SELECT result_id FROM refs').all() as { result_id: string }[]).map((r) => r.result_id);
  }

  list(): RefInfo[] {
    const s = this.db;
    return this.db.read(() => {
      const holders = new Map<string, HolderRow[]>();
      for (const h of s.prepare('SELECT * FROM ref_holders ORDER BY id').all() as HolderRow[]) {
        const list = holders.get(h.result_id) ?? [];
        list.push(h);
        holders.set(h.result_id, list);
      }
      return (s.prepare('SELECT * FROM refs ORDER BY result_id').all() as RefRow[]).map((r) => {
        const mine = holders.get(r.result_id) ?? [];
        return {
          resultId: r.result_id,
          parent: r.parent ?? undefined,
          size: r.size ?? undefined,
          lastUsedAt: r.last_used_at,
          liveHolders: mine.filter(alive).map((h) => h.holder),
          deadHolders: mine.filter((h) => !alive(h)).map((h) => h.holder),
        };
      });
    });
  }

  /** Holds recorded by processes that no longer run. */
  deadHolders(): { resultId: string; holder: string }[] {
    return (this.db.prepare('SELECT * FROM ref_holders ORDER BY id').all() as HolderRow[])
      .filter((h) => !alive(h)).map((h) => ({ resultId: h.result_id, holder: h.holder }));
  }

  /** Removes the holds of dead processes. Returns how many were removed. */
  cleanupDead(): number {
    const s = this.db;
    return this.db.write(() => {
      const dead = (s.prepare('SELECT * FROM ref_holders').all() as HolderRow[]).filter((h) => !alive(h));
      const del = s.prepare('DELETE FROM ref_holders WHERE id = ?');
      for (const h of dead) del.run(h.id);
      return dead.length;
    });
  }

  /** Parent snapshot recorded for a result, if any. */
  parentOf(resultId: string): string | undefined {
    const r = this.db.prepare('SELECT parent FROM refs WHERE result_id = ?').get(resultId) as { parent: string | null } | undefined;
    return r?.parent ?? undefined;
  }

  /**
   * Inside a write transaction: tombstones `resultId` unless a live process holds it or another
   * live prune already tombstoned it. True when this process now owns the removal.
   */
  tombstoneIfUnheld(resultId: string): boolean {
    const s = this.db;
    if (this.count(resultId) > 0) return false;
    const t = s.prepare('SELECT pid, pid_start FROM tombstones WHERE result_id = ?').get(resultId) as { pid: number; pid_start: string } | undefined;
    if (t && isProcessAlive({ pid: t.pid, start: t.pid_start }) && !(t.pid === this.owner.pid && t.pid_start === this.owner.start)) return false;
    s.prepare('INSERT OR REPLACE INTO tombstones (result_id, pid, pid_start, created_at) VALUES (?, ?, ?, ?)')
      .run(resultId, this.owner.pid, this.owner.start, this.now());
    return true;
  }

  /** Drops tombstones (after the removal finished) and the refs rows of removed results. */
  finishRemoval(resultIds: readonly string[]): void {
    const s = this.db;
    this.db.write(() => {
      for (const id of resultIds) {
        s.prepare('DELETE FROM tombstones WHERE result_id = ?').run(id);
        s.prepare('DELETE FROM refs WHERE result_id = ? AND NOT EXISTS (SELECT 1 FROM ref_holders WHERE result_id = ?)').run(id, id);
      }
    });
  }

  /** Results a live prune is removing right now. */
  liveTombstones(): string[] {
    return (this.db.prepare('SELECT result_id, pid, pid_start FROM tombstones ORDER BY result_id').all() as { result_id: string; pid: number; pid_start: string }[])
      .filter((t) => isProcessAlive({ pid: t.pid, start: t.pid_start })).map((t) => t.result_id);
  }

  /** Deletes a ref row nobody holds (its snapshot is gone). */
  deleteUnheld(resultId: string): boolean {
    return this.db.write(() => this.db.prepare('DELETE FROM refs WHERE result_id = ? AND NOT EXISTS (SELECT 1 FROM ref_holders WHERE result_id = ?)')
      .run(resultId, resultId).changes > 0);
  }

  /** Tombstones whose pruning process died before finishing. */
  staleTombstones(): string[] {
    return (this.db.prepare('SELECT result_id, pid, pid_start FROM tombstones ORDER BY result_id').all() as { result_id: string; pid: number; pid_start: string }[])
      .filter((t) => !isProcessAlive({ pid: t.pid, start: t.pid_start })).map((t) => t.result_id);
  }
}

function alive(h: HolderRow): boolean {
  return isProcessAlive({ pid: h.pid, start: h.pid_start });
}
