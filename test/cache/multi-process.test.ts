import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MetadataDb } from '../../src/cache/metadata-db.js';
import { spawnFixture, waitForExit, waitForLine } from './helpers/child.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

describe('two processes on one data root', () => {
  let t: TestRoot;
  beforeEach(async () => {
    t = await makeTestRoot();
  });
  afterEach(async () => t.cleanup());

  test('processes that create the metadata database at the same moment all open it', async () => {
    // They all want the lock that switches a new database to WAL; SQLite refuses all but one at
    // once, without waiting (it was 'database is locked' for the losers).
    const tags = ['a', 'b', 'c', 'd', 'e', 'f'];
    await mkdir(t.root, { recursive: true });
    const children = tags.map((tag) => spawnFixture('db-open-race.ts', [t.root, tag]));
    const exits = await (async () => {
      await Promise.all(children.map((c) => waitForLine(c, 'READY')));
      await writeFile(join(t.root, 'go'), '');
      return Promise.all(children.map((c) => waitForExit(c)));
    })().finally(() => children.forEach((c) => c.kill('SIGKILL')));
    expect(exits.map((r) => r.stderr)).toEqual(tags.map(() => ''));
    expect(exits.map((r) => r.code)).toEqual(tags.map(() => 0));
    const db = MetadataDb.open({ path: join(t.root, 'metadata.db') });
    try {
      expect((db.sqlite.prepare('SELECT tag FROM open_race ORDER BY tag').all() as { tag: string }[]).map((r) => r.tag)).toEqual(tags);
    } finally {
      db.close();
    }
  }, 120_000);

  test('both hammer the same metadata database at once and both succeed', async () => {
    const n = 300;
    const a = spawnFixture('db-hammer.ts', [t.root, 'a', String(n)]);
    const b = spawnFixture('db-hammer.ts', [t.root, 'b', String(n)]);
    const [ra, rb] = await Promise.all([waitForExit(a), waitForExit(b)]);
    expect(ra.stderr).toBe('');
    expect(rb.stderr).toBe('');
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(ra.stdout).toContain('DONE a');
    expect(rb.stdout).toContain('DONE b');

    const s = await t.open();
    const records = s.records.list();
    expect(records.filter((r) => r.key.startsWith('sha256:a-'))).toHaveLength(n);
    expect(records.filter((r) => r.key.startsWith('sha256:b-'))).toHaveLength(n);
    await expect(s.records.lookup('sha256:shared', 0)).resolves.toMatchObject({ useCount: 2 * n + 1 });
    expect(s.records.inputKeys('sha256:a-7', 0)).toEqual(['sha256:a-6']);
    expect(s.refs.referenced().size).toBe(0);
    expect(s.statCache.get('/ctx/b', `f${n - 1}`)?.digest).toBe(`xxh64:${n - 1}`);
    const builds = s.history.list();
    // Each write recorded a build; the history kept the newest 5 (the bound both processes set).
    expect(builds.map((b) => b.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(s.history.steps(builds[0]?.buildId ?? '')).toHaveLength(1);
    expect(s.db.integrityCheck()).toEqual(['ok']);
  }, 120_000);

  test('both write the same blobs at once and both succeed', async () => {
    const a = spawnFixture('blob-writer.ts', [t.root, '40']);
    const b = spawnFixture('blob-writer.ts', [t.root, '40']);
    const [ra, rb] = await Promise.all([waitForExit(a), waitForExit(b)]);
    expect([ra.stderr, rb.stderr]).toEqual(['', '']);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(JSON.parse(ra.stdout)).toEqual(JSON.parse(rb.stdout));
    const s = await t.open();
    const report = await s.check({ deep: true });
    // Every blob is whole; nothing references them, so they are orphans and nothing else.
    expect(report.blobsChecked).toBe(40);
    expect(report.problems.filter((p) => p.kind !== 'orphan-blob')).toEqual([]);
    expect(report.problems).toHaveLength(40);
  }, 120_000);
});
