/**
 * When a build's layer blobs are made in the background (src/engine/eager-layers.ts): not at the
 * step's commit, where the next step's own work comes right after it, but once a step's process has
 * started, when the target (last) step or a large layer commits, when the export is about to ask
 * (flush), or after the fallback delay; close() drops the jobs not started. The real content store,
 * overlay2 snapshotter (no mounts: files go into the upper dirs) and differ.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { inventoryFromSnapshotter } from '../../src/cache/snapshot-inventory.js';
import { AT_ONCE_BYTES, EagerLayers } from '../../src/engine/eager-layers.js';
import type { Vertex } from '../../src/solver/types.js';
import { Overlay2Differ } from '../../src/worker/diff/differ.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf, isRoot } from '../helpers/skip.js';

/** Vertices as EagerLayers reads them: a step of the target stage, the target (its last step), another stage's step. */
const STEP = { digest: 'sha256:step', options: { stage: 'final' } } as unknown as Vertex;
const TARGET = { digest: 'sha256:target', options: { stage: 'final' } } as unknown as Vertex;
const OTHER_STAGE = { digest: 'sha256:other', options: { stage: 'builder' } } as unknown as Vertex;

describeIf(isRoot, 'the overlay2 snapshotter keeps Docker-compatible ownership; it needs root', 'layer blobs made in the background', () => {
  let dir: string;
  let snapshotter: Overlay2Snapshotter;
  let storage: CacheStorage;
  let services: ConstructorParameters<typeof EagerLayers>[0];
  const eagers: EagerLayers[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-eager-'));
    snapshotter = new Overlay2Snapshotter({ root: dir });
    storage = await CacheStorage.open({ root: dir, inventory: inventoryFromSnapshotter(snapshotter, { overlayDir: join(dir, 'overlay2') }) });
    services = { storage, snapshotter, differ: new Overlay2Differ({ snapshotter }), tmpDir: dir };
  });
  afterEach(async () => {
    for (const e of eagers.splice(0)) await e.close();
    storage.close();
    await snapshotter.close();
    await rm(dir, { recursive: true, force: true });
  });

  const eager = (fallbackMs: number): EagerLayers => {
    const e = new EagerLayers(services, new AbortController().signal, { fallbackMs });
    e.enable(TARGET);
    eagers.push(e);
    return e;
  };
  /** A committed snapshot with one file (its name as its content unless `data` is given). */
  const layer = async (name: string, data: string | Buffer = `${name}\n`): Promise<string> => {
    const a = await snapshotter.prepare({});
    await writeFile(join(a.upperDir, name), data);
    return snapshotter.commit(a);
  };
  const blobs = async (): Promise<number> => (await readdir(storage.content.paths.blobs)).length;
  /** Polls until the store holds `n` blobs (a job finished), or fails after 10 s. */
  const untilBlobs = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && (await blobs()) < n; i++) await sleep(50);
    expect(await blobs()).toBe(n);
  };
  /** After a while, the store still holds `n` blobs: no job started (or another finished). */
  const stillAt = async (n: number, ms = 300): Promise<void> => {
    await sleep(ms);
    expect(await blobs()).toBe(n);
  };

  test('a committed layer waits for a process start, then its blob is made', async () => {
    const e = eager(60_000);
    const before = await blobs();
    e.committed(STEP, await layer('a'));
    await stillAt(before);
    e.processStarted();
    await untilBlobs(before + 1);
  }, 30_000);

  test('flush starts the waiting jobs; only the target stage\'s layers are made', async () => {
    const e = eager(60_000);
    const before = await blobs();
    e.committed(OTHER_STAGE, await layer('other'));
    e.committed(STEP, await layer('b'));
    e.committed(STEP, await layer('c'));
    e.flush();
    await untilBlobs(before + 2);
    await stillAt(before + 2);
  }, 30_000);

  test('the target\'s commit (the last step\'s) starts its job and the waiting ones at once', async () => {
    const e = eager(60_000);
    const before = await blobs();
    e.committed(STEP, await layer('t1'));
    await stillAt(before);
    e.committed(TARGET, await layer('t2'));
    await untilBlobs(before + 2);
  }, 30_000);

  test('a layer of AT_ONCE_BYTES or more starts its job (and the waiting ones) at once', async () => {
    const e = eager(60_000);
    const before = await blobs();
    e.committed(STEP, await layer('small'), 4);
    await stillAt(before);
    e.committed(STEP, await layer('big', Buffer.alloc(AT_ONCE_BYTES, 7)), AT_ONCE_BYTES);
    await untilBlobs(before + 2);
  }, 30_000);

  test('without a process start or a flush, the fallback delay starts them', async () => {
    const e = eager(100);
    const before = await blobs();
    e.committed(STEP, await layer('d'));
    await untilBlobs(before + 1);
  }, 30_000);

  test('close drops the jobs not started', async () => {
    const e = eager(100);
    const before = await blobs();
    e.committed(STEP, await layer('e'));
    await e.close();
    await stillAt(before, 400);
  }, 30_000);
});
