/**
 * The SQLite metadata database (ROOT/metadata.db), shared by every tsbuild process on a data root.
 * WAL lets readers run beside one writer; busy_timeout makes a second writer wait instead of
 * failing; writes use BEGIN IMMEDIATE so a transaction never has to upgrade a read lock (which
 * SQLite answers with SQLITE_BUSY at once, whatever the timeout). Keep transactions short: a
 * writer blocks every other process's writers while it runs.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { TsbuildError } from '../util/errors.js';
import type { Migration } from './migrations.js';
import { MIGRATIONS } from './migrations.js';

export interface OpenMetadataDbOptions {
  /** The database file (normally ROOT/metadata.db). */
  readonly path: string;
  /** How long a writer waits for another process's write lock, in ms. Default 15000. */
  readonly busyTimeoutMs?: number;
  /** Schema migrations to apply (default: MIGRATIONS). */
  readonly migrations?: readonly Migration[];
}

export class MetadataDb {
  readonly path: string;
  readonly sqlite: Database.Database;
  /** Statements by SQL text, compiled once per connection (compiling costs more than most runs). */
  readonly #statements = new Map<string, Database.Statement>();
  /** One transaction function each, reused: making one per call costs as much as a short write. */
  readonly #immediate: (fn: () => unknown) => unknown;
  readonly #deferred: (fn: () => unknown) => unknown;
  /** Write transactions of this connection since its last checkpoint() (see checkpointIfDue). */
  #writesSinceCheckpoint = 0;

  private constructor(path: string, sqlite: Database.Database) {
    this.path = path;
    this.sqlite = sqlite;
    const run = sqlite.transaction((fn: () => unknown) => fn());
    this.#immediate = run.immediate;
    this.#deferred = run.deferred;
  }

  /** Opens (creating and migrating when needed) the metadata database. */
  static open(opts: OpenMetadataDbOptions): MetadataDb {
    let sqlite: Database.Database;
    try {
      sqlite = new Database(opts.path);
    } catch (e) {
      throw new TsbuildError('METADATA_DB_OPEN', `cannot open metadata database ${opts.path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      // busy_timeout first: even switching to WAL needs a lock another process may hold.
      const busyMs = Math.max(0, Math.floor(opts.busyTimeoutMs ?? 15_000));
      sqlite.pragma(`busy_timeout = ${busyMs}`);
      switchToWal(sqlite, busyMs);
      // NORMAL in WAL mode: a process crash never loses or corrupts a committed transaction;
      // a power loss may lose the last few, but leaves the database consistent.
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
      // Sorts and NOT IN lists that no index serves go to temporary b-trees; on the default
      // (file) store each one creates, writes and unlinks a temp file: the history's trim after
      // every build took ~2 ms that way, ~50 us in memory (issue 10). The metadata is small.
      sqlite.pragma('temp_store = MEMORY');
      // A commit that crosses wal_autocheckpoint pages of WAL runs the checkpoint itself: copies
      // the pages back and fsyncs the WAL and the database, synchronously, inside whichever write
      // happens to cross it — at SQLite's default (1000 pages) a 6-14 ms stall of the daemon's event
      // loop in one change rebuild of ~8, in the middle of its steps. The engine's collection after
      // each operation checkpoints instead, when due (checkpointIfDue, off the build's critical
      // path); this higher limit only bounds the WAL of a process that writes a lot without collecting.
      sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      const db = new MetadataDb(opts.path, sqlite);
      db.migrate(opts.migrations ?? MIGRATIONS);
      return db;
    } catch (e) {
      sqlite.close();
      if (e instanceof TsbuildError) throw e;
      throw new TsbuildError('METADATA_DB_OPEN', `cannot open metadata database ${opts.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Runs fn in a write transaction (BEGIN IMMEDIATE). fn must be synchronous and short. */
  write<T>(fn: () => T): T {
    this.#writesSinceCheckpoint++;
    return this.#immediate(fn) as T;
  }

  /** Runs fn in a read transaction: a consistent snapshot across several queries. */
  read<T>(fn: () => T): T {
    return this.#deferred(fn) as T;
  }

  /**
   * The statement for `sql`, prepared on first use and kept for the connection's life. Callers run
   * it (`run`, `get`, `all`) and must not change its mode (`pluck`, `raw`, `expand`, `bind`) or
   * `iterate()` it: an iteration in progress would make the next user of the same text fail.
   * Prepare those with `sqlite.prepare`.
   */
  prepare(sql: string): Database.Statement {
    let st = this.#statements.get(sql);
    if (st === undefined) {
      st = this.sqlite.prepare(sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  /**
   * Copies the WAL's committed pages into the database (a PASSIVE checkpoint: it waits for no
   * reader or writer, and does what it can), so the next writer starts the WAL over. Returns the
   * WAL's frames and how many of them are now in the database.
   */
  checkpoint(): { readonly frames: number; readonly checkpointed: number } {
    this.#writesSinceCheckpoint = 0;
    const [r] = this.sqlite.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    return { frames: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
  }

  /**
   * checkpoint() once the WAL holds CHECKPOINT_AFTER_FRAMES frames (SQLite's own default limit:
   * a change rebuild of a small Dockerfile writes ~125), or — when the WAL's length cannot be read —
   * once this connection made CHECKPOINT_AFTER_WRITES write transactions since its last
   * checkpoint. Each checkpoint fsyncs the WAL and the database. True when it checkpointed.
   */
  checkpointIfDue(): boolean {
    const frames = this.walFrames();
    if (frames !== undefined ? frames < CHECKPOINT_AFTER_FRAMES : this.#writesSinceCheckpoint < CHECKPOINT_AFTER_WRITES) return false;
    this.checkpoint();
    return true;
  }

  /**
   * The frames in the WAL (its last valid frame, mxFrame) from the wal-index header that SQLite
   * keeps in the `-shm` file (https://www.sqlite.org/walformat.html: a u32 at byte 16, native byte
   * order); undefined when there is none to read. Reset to 0 when a writer starts the WAL over.
   */
  walFrames(): number | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(`${this.path}-shm`, 'r');
      const header = Buffer.alloc(20);
      if (readSync(fd, header, 0, 20, 0) < 20) return undefined;
      return endianness() === 'LE' ? header.readUInt32LE(16) : header.readUInt32BE(16);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Highest applied migration. */
  schemaVersion(): number {
    const row = this.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  /** `PRAGMA integrity_check` messages; ["ok"] for a healthy database. */
  integrityCheck(): string[] {
    return (this.sqlite.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }

  private migrate(migrations: readonly Migration[]): void {
    const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
    // One process migrates; the others wait on the write lock and then find nothing to do.
    this.write(() => {
      this.sqlite.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      const current = this.schemaVersion();
      if (current > latest) {
        throw new TsbuildError('METADATA_SCHEMA_TOO_NEW', `metadata database ${this.path} has schema version ${current}, newer than this tsbuild understands (${latest}); upgrade tsbuild or use another --root`);
      }
      const insert = this.sqlite.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)');
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (m.version <= current) continue;
        this.sqlite.exec(m.sql);
        insert.run(m.version, m.description, Date.now());
      }
    });
  }
}

/**
 * `journal_mode = WAL`, retried while another process holds the lock it needs. Two processes that
 * open a new database at once both hold a shared lock and want an exclusive one to switch its
 * journal mode; SQLite answers one of them SQLITE_BUSY at once, without its busy handler (a
 * deadlock to break), so the busy timeout alone does not cover it (test/cache/multi-process.test.ts).
 */
function switchToWal(sqlite: Database.Database, busyMs: number): void {
  const deadline = Date.now() + busyMs;
  for (let attempt = 0; ; attempt++) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw e;
      // The other process finishes its switch in well under a millisecond; back off a little more each time.
      Atomics.wait(WAIT_CELL, 0, 0, Math.min(50, 1 + attempt * 2));
    }
  }
}

const WAIT_CELL = new Int32Array(new SharedArrayBuffer(4));

/** WAL pages (4 KiB) after which a commit checkpoints by itself (see open()). */
export const WAL_AUTOCHECKPOINT_PAGES = 8000;

/** WAL frames after which checkpointIfDue() checkpoints (SQLite's default wal_autocheckpoint). */
export const CHECKPOINT_AFTER_FRAMES = 1000;

/** Write transactions after which checkpointIfDue() checkpoints when the WAL's length is unknown. */
export const CHECKPOINT_AFTER_WRITES = 400;
