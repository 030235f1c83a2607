/**
 * The stat cache for context hashing, in SQLite: (context root, relative path) → the stat fields
 * that tell "unchanged" (size, mtime, ctime, inode) and the file's content digest.
 */
import type { Statement } from 'better-sqlite3';
import type { MetadataDb } from './metadata-db.js';
import type { StatCache, StatCacheEntry } from './types.js';

interface Row {
  path: string;
  size: number;
  mtime_ms: number;
  ctime_ms: number;
  ino: number;
  mode: number;
  digest: string;
}

function entryOf(r: Row): StatCacheEntry {
  return { path: r.path, size: r.size, mtimeMs: r.mtime_ms, ctimeMs: r.ctime_ms, ino: r.ino, mode: r.mode, digest: r.digest };
}

export interface SqliteStatCacheOptions {
  readonly db: MetadataDb;
  /** Rows per write transaction; short transactions keep other processes' writers moving. Default 2000. */
  readonly batchSize?: number;
}

export class SqliteStatCache implements StatCache {
  private readonly db: MetadataDb;
  private readonly batchSize: number;
  /** Prepared once: get() runs once per context file. */
  private readonly getStmt: Statement;
  /**
   * Roots loaded whole by preload(): one query instead of one per file (~9 µs each through
   * better-sqlite3, most of a warm 100,000-file hash). An entry here that another process has
   * since replaced is still a true (stat → digest) fact: a stale one only makes a file be read.
   */
  private readonly loaded = new Map<string, Map<string, StatCacheEntry>>();

  constructor(opts: SqliteStatCacheOptions) {
    this.db = opts.db;
    this.batchSize = Math.max(1, opts.batchSize ?? 2000);
    this.getStmt = this.db.prepare('SELECT path, size, mtime_ms, ctime_ms, ino, mode, digest FROM stat_cache WHERE root = ? AND path = ?');
  }

  get(root: string, path: string): StatCacheEntry | undefined {
    const all = this.loaded.get(root);
    if (all) return all.get(path);
    const r = this.getStmt.get(root, path) as Row | undefined;
    return r && entryOf(r);
  }

  preload(root: string): void {
    if (this.loaded.has(root)) return;
    const all = new Map<string, StatCacheEntry>();
    const rows = this.db.sqlite.prepare('SELECT path, size, mtime_ms, ctime_ms, ino, mode, digest FROM stat_cache WHERE root = ?').iterate(root) as IterableIterator<Row>;
    for (const r of rows) all.set(r.path, entryOf(r));
    this.loaded.set(root, all);
  }

  putMany(root: string, entries: readonly StatCacheEntry[]): void {
    const all = this.loaded.get(root);
    if (all) for (const e of entries) all.set(e.path, e);
    const ins = this.db.prepare('INSERT OR REPLACE INTO stat_cache (root, path, size, mtime_ms, ctime_ms, ino, mode, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < entries.length; i += this.batchSize) {
      const batch = entries.slice(i, i + this.batchSize);
      this.db.write(() => {
        for (const e of batch) ins.run(root, e.path, e.size, e.mtimeMs, e.ctimeMs, e.ino, e.mode, e.digest);
      });
    }
  }

  clear(root?: string): number {
    if (root === undefined) this.loaded.clear();
    else this.loaded.delete(root);
    return this.db.write(() => (root === undefined
      ? this.db.prepare('DELETE FROM stat_cache').run()
      : this.db.prepare('DELETE FROM stat_cache WHERE root = ?').run(root)).changes);
  }

  /** Roots with entries, for pruning entries of contexts that no longer exist. */
  roots(): string[] {
    return (this.db.prepare('SELECT DISTINCT root FROM stat_cache ORDER BY root').all() as { root: string }[]).map((r) => r.root);
  }
}
