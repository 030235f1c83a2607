/**
 * SIGKILL a real child process in the middle of blob writes, database transactions and prunes;
 * afterwards check() finds only what repair() is documented to fix, and new writers succeed.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckProblem } from '../../src/cache/types.js';
import { killHard, spawnFixture, waitForLine } from './helpers/child.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

const kinds = (ps: readonly CheckProblem[]): string[] => [...new Set(ps.map((p) => p.kind))].sort();

describe('crash safety', () => {
  let t: TestRoot;
  beforeEach(async () => {
    t = await makeTestRoot();
  });
  afterEach(async () => t.cleanup());

  async function crash(mode: string, afterReadyMs = 0): Promise<void> {
    const child = spawnFixture('crash-worker.ts', [t.root, mode]);
    try {
      await waitForLine(child, 'READY');
      if (afterReadyMs > 0) await new Promise((r) => setTimeout(r, afterReadyMs));
    } finally {
      await killHard(child);
    }
  }

  test('killed during a blob write: only an orphan ingest file remains; repair removes it', async () => {
    await crash('blob-hold');
    const s = await t.open();
    expect(await readdir(join(t.root, 'content', 'blobs', 'sha256'))).toEqual([]);
    const report = await s.check({ deep: true });
    expect(kinds(report.problems)).toEqual(['orphan-ingest']);
    const fixed = await s.repair({ deep: true });
    expect(fixed.remaining).toEqual([]);
    expect((await s.check({ deep: true })).ok).toBe(true);
    expect(await readdir(join(t.root, 'content', 'ingest'))).toEqual([]);
    const info = await s.content.put('after the crash');
    expect((await s.content.readAll(info.digest)).toString()).toBe('after the crash');
  }, 60_000);

  test.each([5, 40, 150])('killed %i ms into a stream of blob commits: every blob under blobs/ is whole', async (ms) => {
    await crash('blob-loop', ms);
    const s = await t.open();
    const report = await s.check({ deep: true });
    expect(report.blobsChecked).toBeGreaterThan(0);
    // The only possible leftovers are an ingest file and whole blobs nothing references (the
    // worker names none); never a blob whose name does not match its content.
    expect(report.problems.filter((p) => p.kind !== 'orphan-ingest' && p.kind !== 'orphan-blob')).toEqual([]);
    await s.repair();
    expect((await s.check({ deep: true })).ok).toBe(true);
    expect((await s.content.put(`new ${ms}`)).size).toBeGreaterThan(0);
  }, 60_000);

  test('killed inside a write transaction: nothing of it is visible, the lock is free, the DB is intact', async () => {
    await crash('tx-hold');
    const s = await t.open({});
    expect(s.records.list().filter((r) => r.description === 'uncommitted')).toEqual([]);
    const report = await s.check();
    expect(report.ok).toBe(true);
    // A new writer gets the write lock at once (busy_timeout would make it wait 15 s otherwise).
    const started = Date.now();
    await s.records.save({ key: 'sha256:after', output: 0, resultId: '', recordType: 'internal', description: 'after' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(s.records.get('sha256:after', 0)).toBeDefined();
  }, 60_000);

  test.each([5, 60, 200])('killed %i ms into a stream of transactions: integrity holds, dead refs are repaired', async (ms) => {
    await crash('tx-loop', ms);
    const s = await t.open();
    const report = await s.check();
    // The worker holds refs on ids that are no snapshots: once it is dead, their rows are orphans.
    expect(report.problems.filter((p) => p.kind !== 'dead-ref' && p.kind !== 'orphan-ref')).toEqual([]);
    // Every committed record has its complete set of inputs: transactions are all-or-nothing.
    for (const r of s.records.list()) expect(s.records.inputKeys(r.key, r.output)).toEqual([r.key, r.key]);
    await s.repair();
    expect((await s.check()).ok).toBe(true);
    expect(s.refs.referenced().size).toBe(0);
    await s.records.save({ key: 'sha256:after', output: 0, resultId: '', recordType: 'internal', description: 'after' });
  }, 60_000);

  test('killed in the middle of a prune: the stale tombstone and the snapshot it chose are reported; repair finishes the job', async () => {
    const setup = await t.open();
    const snap = await t.inventory.create({ bytes: 10 });
    await setup.records.save({ key: 'sha256:victim', output: 0, resultId: snap, recordType: 'regular', description: 'victim' });
    setup.close();
    await crash('prune-hang');
    const s = await t.open();
    // The prune had deleted the record and was removing the snapshot: never a record without its
    // snapshot, only a snapshot nothing holds any more.
    expect(s.records.list()).toEqual([]);
    const report = await s.check();
    expect(kinds(report.problems)).toEqual(['orphan-snapshot', 'stale-tombstone']);
    await s.repair();
    expect((await s.check()).ok).toBe(true);
    expect(await t.inventory.exists(snap)).toBe(false);
  }, 60_000);

  test('killed while holding a temp dir and an ingest file: both are orphans for repair', async () => {
    await crash('tmp-hold');
    const s = await t.open();
    expect(kinds((await s.check()).problems)).toEqual(['orphan-ingest', 'orphan-tmp']);
    await s.repair();
    expect((await s.check()).ok).toBe(true);
    expect(await readdir(join(t.root, 'tmp'))).toEqual([]);
  }, 60_000);

  test('cleanupOrphans at engine start removes a dead process\'s leftovers and spares a live one\'s', async () => {
    await crash('tmp-hold');
    const live = spawnFixture('crash-worker.ts', [t.root, 'tmp-hold']);
    try {
      await waitForLine(live, 'READY');
      const s = await t.open();
      const fixed = await s.cleanupOrphans();
      expect(kinds(fixed)).toEqual(['orphan-ingest', 'orphan-tmp']);
      expect(fixed).toHaveLength(2);
      // The live process's temp dir and ingest file are untouched.
      expect(await readdir(join(t.root, 'tmp'))).toHaveLength(1);
      expect(await readdir(join(t.root, 'content', 'ingest'))).toHaveLength(1);
      expect((await s.check()).ok).toBe(true);
    } finally {
      await killHard(live);
    }
    const s = await t.open();
    expect(await s.cleanupOrphans()).toHaveLength(2);
    expect(await readdir(join(t.root, 'tmp'))).toEqual([]);
    expect(await readdir(join(t.root, 'content', 'ingest'))).toEqual([]);
  }, 60_000);
});
