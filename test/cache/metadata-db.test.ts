import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKPOINT_AFTER_FRAMES, MetadataDb } from '../../src/cache/metadata-db.js';
import { makeTestRoot } from './helpers/temp-root.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/cache/migrations.js';
import { isTsbuildError } from '../../src/util/errors.js';

function codeOfSync(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTsbuildError(e) ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

describe('metadata database', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-db-test-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  test('a new database is created in WAL mode at the latest schema version', () => {
    const db = MetadataDb.open({ path: join(dir, 'metadata.db') });
    try {
      expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(Number(db.sqlite.pragma('busy_timeout', { simple: true }))).toBe(15000);
      expect(db.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const tables = (db.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['cache_records', 'cache_record_inputs', 'refs', 'ref_holders', 'stat_cache', 'layer_blobs', 'images', 'builds', 'build_steps', 'schema_version']));
      expect(db.integrityCheck()).toEqual(['ok']);
    } finally {
      db.close();
    }
  });

  test('reopening applies only newer migrations and keeps data', () => {
    const path = join(dir, 'metadata.db');
    const v1 = MetadataDb.open({ path, migrations: MIGRATIONS });
    v1.write(() => v1.sqlite.prepare("INSERT INTO images (name, manifest_digest, config_digest, media_type, created_at, updated_at) VALUES ('a', 'm', 'c', 't', 1, 1)").run());
    v1.close();
    const next = [...MIGRATIONS, { version: LATEST_SCHEMA_VERSION + 1, description: 'test column', sql: 'ALTER TABLE images ADD COLUMN note TEXT' }];
    const v2 = MetadataDb.open({ path, migrations: next });
    try {
      expect(v2.schemaVersion()).toBe(LATEST_SCHEMA_VERSION + 1);
      expect(v2.sqlite.prepare("SELECT name, note FROM images").all()).toEqual([{ name: 'a', note: null }]);
    } finally {
      v2.close();
    }
    // Opening the newer database with the older code is refused with a clear error.
    expect(codeOfSync(() => MetadataDb.open({ path, migrations: MIGRATIONS }))).toBe('METADATA_SCHEMA_TOO_NEW');
  });

  test('a file that is not a database gives METADATA_DB_OPEN naming the file', async () => {
    const path = join(dir, 'metadata.db');
    await writeFile(path, 'this is not sqlite'.repeat(100));
    let err: unknown;
    try {
      MetadataDb.open({ path });
    } catch (e) {
      err = e;
    }
    expect(isTsbuildError(err) && err.code).toBe('METADATA_DB_OPEN');
    expect(String((err as Error).message)).toContain(path);
  });

  test('a write transaction rolls back entirely when it throws', () => {
    const db = MetadataDb.open({ path: join(dir, 'metadata.db') });
    try {
      expect(() => db.write(() => {
        db.sqlite.prepare("INSERT INTO locks (name, pid, pid_start, acquired_at) VALUES ('x', 1, '', 0)").run();
        throw new Error('boom');
      })).toThrow('boom');
      expect(db.sqlite.prepare('SELECT COUNT(*) AS n FROM locks').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  test('statements are prepared once per connection; nested writes still roll back to their own start', () => {
    const db = MetadataDb.open({ path: join(dir, 'metadata.db') });
    try {
      const sql = "INSERT INTO locks (name, pid, pid_start, acquired_at) VALUES (?, 1, '', 0)";
      expect(db.prepare(sql)).toBe(db.prepare(sql));
      db.write(() => {
        db.prepare(sql).run('outer');
        expect(() => db.write(() => {
          db.prepare(sql).run('inner');
          throw new Error('boom');
        })).toThrow('boom');
      });
      expect(db.prepare('SELECT name FROM locks ORDER BY name').all()).toEqual([{ name: 'outer' }]);
      expect(db.read(() => db.prepare('SELECT COUNT(*) AS n FROM locks').get())).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  test('a write never checkpoints the WAL by itself at SQLite\'s default limit; checkpoint() does, and the next write starts the WAL over', () => {
    const db = MetadataDb.open({ path: join(dir, 'metadata.db') });
    try {
      const sql = "INSERT INTO locks (name, pid, pid_start, acquired_at) VALUES (?, 1, '', 0)";
      // Each transaction appends at least one frame: 1,500 is past SQLite's default of 1,000
      // pages, where a commit ran the checkpoint (and its fsyncs) inside the write.
      for (let i = 0; i < 1500; i++) db.write(() => db.prepare(sql).run(`lock-${i}-${'x'.repeat(1500)}`));
      const seen = db.walFrames();
      const first = db.checkpoint();
      expect(seen).toBe(first.frames);
      expect(first.frames).toBeGreaterThanOrEqual(1500);
      expect(first.checkpointed).toBe(first.frames);
      db.write(() => db.prepare(sql).run('after'));
      expect(db.checkpoint().frames).toBeLessThan(20);
    } finally {
      db.close();
    }
  });

  test('the collection after an operation checkpoints once the WAL holds SQLite\'s default limit of frames, whatever the number of writes', async () => {
    const t = await makeTestRoot();
    try {
      const s = await t.open();
      await s.collectGarbage();
      const save = (key: string): Promise<unknown> => s.records.save({ key, output: 0, resultId: '', recordType: 'internal', description: 'x'.repeat(2000) });
      for (let i = 0; i < 20; i++) await save(`sha256:${i}`);
      const few = s.db.walFrames() ?? 0;
      expect(few).toBeGreaterThan(20);
      expect(few).toBeLessThan(CHECKPOINT_AFTER_FRAMES);
      await s.collectGarbage();
      // Not due: no checkpoint, so the next write appends to the WAL instead of starting it over.
      await save('sha256:more');
      expect(s.db.walFrames()).toBeGreaterThan(few);
      // Past the limit in a few large transactions (a cold build's stat cache writes so).
      s.db.write(() => {
        const st = s.db.prepare("INSERT INTO locks (name, pid, pid_start, acquired_at) VALUES (?, 1, '', 0)");
        for (let i = 0; i < 3 * CHECKPOINT_AFTER_FRAMES; i++) st.run(`lock-${i}-${'x'.repeat(1000)}`);
      });
      expect(s.db.walFrames()).toBeGreaterThanOrEqual(CHECKPOINT_AFTER_FRAMES);
      await s.collectGarbage();
      // A complete checkpoint lets the next writer start the WAL over: it then holds that write only.
      await s.records.save({ key: 'sha256:after', output: 0, resultId: '', recordType: 'internal', description: 'x' });
      expect(s.db.walFrames()).toBeLessThan(20);
    } finally {
      await t.cleanup();
    }
  });
});
