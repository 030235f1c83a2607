import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

describe('check and repair', () => {
  let t: TestRoot;
  let s: CacheStorage;
  beforeEach(async () => {
    t = await makeTestRoot();
    s = await t.open();
  });
  afterEach(async () => t.cleanup());

  test('a healthy store checks ok', async () => {
    const snap = await t.inventory.create({ bytes: 3 });
    await s.records.save({ key: 'sha256:a', output: 0, resultId: snap, recordType: 'regular', description: 'a' });
    await s.records.save({ key: 'sha256:b', output: 0, resultId: '', recordType: 'internal', description: 'no filesystem' });
    const blob = await s.content.put('x');
    s.layerBlobs.put({ snapshotId: snap, compression: 'gzip', blobDigest: blob.digest, diffId: blob.digest, size: 1, mediaType: 'x' });
    const r = await s.check({ deep: true });
    expect(r).toEqual({ ok: true, problems: [], recordsChecked: 2, blobsChecked: 1 });
  });

  test('finds records of missing snapshots, corrupt and misnamed blobs, missing layer blobs, stale locks; repair fixes them', async () => {
    const gone = await t.inventory.create();
    await s.records.save({ key: 'sha256:gone', output: 0, resultId: gone, recordType: 'regular', description: 'gone' });
    await t.inventory.remove(gone);
    const ok = await t.inventory.create();
    await s.records.save({ key: 'sha256:ok', output: 0, resultId: ok, recordType: 'regular', description: 'ok' });
    const good = await s.content.put('good');
    const bad = await s.content.put('will be corrupted');
    // Both are layer blobs of a kept snapshot: reachable, so not orphans.
    s.layerBlobs.put({ snapshotId: ok, compression: 'uncompressed', blobDigest: good.digest, diffId: good.digest, size: 4, mediaType: 'x' });
    s.layerBlobs.put({ snapshotId: ok, compression: 'zstd', blobDigest: bad.digest, diffId: bad.digest, size: 4, mediaType: 'x' });
    await writeFile(s.content.blobPath(bad.digest), 'corrupted!');
    await writeFile(join(t.root, 'content', 'blobs', 'sha256', 'not-a-digest'), '');
    const missing = `sha256:${'9'.repeat(64)}`;
    s.layerBlobs.put({ snapshotId: ok, compression: 'gzip', blobDigest: missing, diffId: missing, size: 1, mediaType: 'x' });
    s.db.write(() => s.db.sqlite.prepare("INSERT INTO locks (name, pid, pid_start, acquired_at) VALUES ('gc', 4194305, '1', 0)").run());

    const shallow = await s.check();
    expect(shallow.problems.map((p) => p.kind).sort()).toEqual(['bad-blob-name', 'missing-layer-blob', 'missing-snapshot', 'stale-lock']);
    const deep = await s.check({ deep: true });
    expect(deep.problems).toContainEqual({ kind: 'blob-digest-mismatch', digest: bad.digest, actual: expect.stringMatching(/^sha256:/) as unknown as string });
    expect(deep.problems).toContainEqual({ kind: 'missing-snapshot', key: 'sha256:gone', output: 0, resultId: gone });
    expect(deep.ok).toBe(false);

    const repaired = await s.repair({ deep: true });
    expect(repaired.fixed).toHaveLength(5);
    expect(repaired.remaining).toEqual([]);
    // The corrupt blob's entry now names a missing blob: the next repair drops it.
    expect((await s.check({ deep: true })).problems).toEqual([{ kind: 'missing-layer-blob', snapshotId: ok, blobDigest: bad.digest }]);
    await s.repair();
    expect(await s.check({ deep: true })).toMatchObject({ ok: true, problems: [] });
    expect(s.records.list().map((r) => r.key)).toEqual(['sha256:ok']);
    expect(await s.content.has(good.digest)).toBe(true);
    expect(await s.content.has(bad.digest)).toBe(false);
  });

  test('ingest and tmp entries of live processes are orphans only once stale', async () => {
    const w = s.content.writer();
    // The write callback runs once the chunk is in the ingest file.
    await new Promise<void>((resolve, reject) => w.write('in progress', (e) => (e ? reject(e) : resolve())));
    await mkdir(join(t.root, 'tmp', 'someone-elses-scratch'));
    expect((await s.check()).ok).toBe(true);
    // Age the ingest file by a minute instead of waiting: stale for a limit of 0, not for the default.
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(w.tempPath, minuteAgo, minuteAgo);
    const old = new Date(Date.now() - 48 * 3600_000);
    await utimes(join(t.root, 'tmp', 'someone-elses-scratch'), old, old);
    expect((await s.check()).problems).toEqual([{ kind: 'orphan-tmp', path: join(t.root, 'tmp', 'someone-elses-scratch') }]);
    expect((await s.check({ staleAfterMs: 0 })).problems.map((p) => p.kind).sort()).toEqual(['orphan-ingest', 'orphan-tmp']);
    await w.abort();
  });

  test('a damaged database file is reported and left for the user', async () => {
    s.close();
    const { open } = await import('node:fs/promises');
    // Overwrite the middle of the first table page after the header: the file stays a database,
    // but its b-tree is broken.
    const dbPath = join(t.root, 'metadata.db');
    const s1 = await t.open();
    for (let i = 0; i < 300; i++) await s1.records.save({ key: `sha256:${i}`, output: 0, resultId: '', recordType: 'internal', description: 'x'.repeat(200) });
    s1.db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    s1.close();
    const fh = await open(dbPath, 'r+');
    const page = 4096;
    const { size } = await fh.stat();
    for (let off = 2 * page; off < size - page; off += page) await fh.write(Buffer.alloc(64, 0xff), 0, 64, off + 100);
    await fh.close();
    let report;
    try {
      const s2 = await t.open();
      report = await s2.check();
    } catch (e) {
      // Damage this bad may already fail the open with a clear error; that is also acceptable.
      expect(e).toMatchObject({ code: 'METADATA_DB_OPEN' });
      return;
    }
    expect(report.ok).toBe(false);
    expect(report.problems.some((p) => p.kind === 'db-integrity')).toBe(true);
    const s3 = await t.open();
    const repaired = await s3.repair();
    expect(repaired.remaining.some((p) => p.kind === 'db-integrity')).toBe(true);
  });
});
