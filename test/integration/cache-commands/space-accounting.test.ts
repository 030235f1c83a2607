/**
 * The store accounts for every byte (issue "Nothing escapes, nothing leaks, nothing is lost"):
 *
 * - results replaced by `--no-cache`, and results that lose the race between concurrent builds of
 *   one Dockerfile, are collected when the build ends: afterwards every snapshot on disk is one a
 *   cache record holds, `cache check` is clean, and `rmi` + `prune -a` leave nothing at all (before
 *   the fix, five --no-cache builds left 4 MB per build in overlay2 and content that no command
 *   could see or free);
 * - `tsbuild du`'s data-root total is what is on disk (within DU_TOLERANCE).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { haveBusybox } from '../../helpers/busybox.js';
import { blobNames, bytesWithoutMetadata, DU_TOLERANCE, snapshotDirs } from '../../helpers/data-root-disk.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { Workspace } from '../images/workspace.js';

interface DuJson {
  records: { resultId: string }[];
  totalBytes: number;
  disk: { snapshots: number; content: number; metadata: number; other: number; total: number };
}

describeIf(isRoot && haveBusybox && haveBinary('runc'), 'needs root, runc and busybox-static', 'space accounting', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await Workspace.create('space');
  }, 60_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  const du = async (root: string): Promise<DuJson> => JSON.parse((await ws.ok(root, ['du', '--format', 'json'])).stdout) as DuJson;

  /** du's data-root total against a walk of the disk, and every snapshot on disk held by a record. */
  async function expectAccounted(root: string): Promise<DuJson> {
    const d = await du(root);
    const held = [...new Set(d.records.map((r) => r.resultId).filter((id) => id !== ''))].sort();
    expect(await snapshotDirs(ws.root(root))).toEqual(held);
    const check = await ws.run(root, ['cache', 'check']);
    expect({ code: check.code, stdout: check.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^ok: /) as unknown as string });
    const onDisk = await bytesWithoutMetadata(ws.root(root));
    expect({ root, du: d.disk, onDisk }).toEqual({ root, du: expect.objectContaining({ total: expect.any(Number) }) as unknown, onDisk });
    expect(Math.abs(d.disk.total - d.disk.metadata - onDisk)).toBeLessThanOrEqual(DU_TOLERANCE);
    return d;
  }

  /** rmi of every image, prune --all, repair: nothing may be left. */
  async function expectEmptyAfterCleanup(root: string): Promise<void> {
    const ids = (await ws.ok(root, ['images', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    for (const id of new Set(ids)) await ws.ok(root, ['rmi', '-f', id]);
    await ws.ok(root, ['prune', '--all', '-f']);
    const repair = await ws.ok(root, ['cache', 'check', '--repair']);
    expect(repair.stdout).toBe('ok: 0 problems fixed\n');
    expect(await snapshotDirs(ws.root(root))).toEqual([]);
    expect(await blobNames(ws.root(root))).toEqual([]);
    const d = await du(root);
    expect(d.disk.snapshots + d.disk.content).toBeLessThan(64 * 1024);
    expect(Math.abs(d.disk.total - d.disk.metadata - (await bytesWithoutMetadata(ws.root(root))))).toBeLessThanOrEqual(DU_TOLERANCE);
  }

  test('five --no-cache builds: the replaced results are collected; rmi and prune -a leave nothing', async () => {
    const root = 'nocache';
    await ws.importBusybox(root);
    const ctx = await ws.context('big', 'FROM busybox\nRUN head -c 2000000 /dev/urandom > /big.bin\nRUN echo hi > /x\n');
    for (let i = 0; i < 5; i++) await ws.ok(root, ['build', '--no-cache', '--progress', 'plain', '-t', 'app', ctx]);
    const d = await expectAccounted(root);
    // The base layer, the 2 MB step and the small one: one build's worth, not five.
    expect(await snapshotDirs(ws.root(root))).toHaveLength(3);
    expect(d.disk.snapshots).toBeLessThan(2 * 2_000_000 + 2_500_000);
    // As in Docker, each build moved the tag and left the image before it dangling (`<none>`):
    // four dangling images hold their own 2 MB layer blob each, and no more than that is stored.
    const dangling = (await ws.ok(root, ['images', '--filter', 'dangling=true', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    expect(new Set(dangling).size).toBe(4);
    expect(d.disk.content).toBeGreaterThan(5 * 2_000_000);
    expect(d.disk.content).toBeLessThan(5 * 2_000_000 + 2_500_000);
    // `image prune` removes them and their blobs: then one build's worth is left.
    await ws.ok(root, ['image', 'prune', '-f']);
    const pruned = await expectAccounted(root);
    expect(pruned.disk.content).toBeLessThan(2_000_000 + 2_500_000);
    await expectEmptyAfterCleanup(root);
  }, 300_000);

  test('concurrent builds of one Dockerfile: the results that lose the race are collected', async () => {
    const root = 'race';
    await ws.importBusybox(root);
    // Both RUN steps take long enough that every build executes them before any records one.
    const ctx = await ws.context('race', 'FROM busybox\nRUN sleep 1 && head -c 300000 /dev/urandom > /r.bin\nRUN sleep 1 && echo done > /d\n');
    for (let round = 0; round < 2; round++) {
      const runs = await Promise.all([0, 1, 2].map((i) => ws.run(root, ['build', '--no-cache', '--progress', 'plain', '-t', `race:${i}`, ctx])));
      for (const r of runs) expect({ code: r.code, err: r.code === 0 ? '' : r.stderr.slice(-2000) }).toEqual({ code: 0, err: '' });
    }
    await expectAccounted(root);
    expect(await snapshotDirs(ws.root(root))).toHaveLength(3);
    await expectEmptyAfterCleanup(root);
  }, 300_000);

  test('du adds up to the disk after ordinary builds, tags and removals', async () => {
    const root = 'plain';
    await ws.importBusybox(root);
    const a = await ws.context('a', 'FROM busybox\nRUN echo a > /a\nCOPY f /f\n', { f: 'x'.repeat(50_000) });
    await ws.ok(root, ['build', '--progress', 'plain', '-t', 'a', a]);
    await expectAccounted(root);
    await ws.ok(root, ['tag', 'a', 'b']);
    await ws.ok(root, ['rmi', 'a']);
    const d = await expectAccounted(root);
    expect(d.disk.total).toBeGreaterThan(d.disk.snapshots + d.disk.content);
    await expectEmptyAfterCleanup(root);
  }, 300_000);
});
