/**
 * The cache over the real overlay2 snapshotter (src/worker/snapshot), wired the way the lead wires
 * the engine: inventoryFromSnapshotter(snapshotter). Snapshots are prepared and committed without
 * mounting (files go straight into the upper dir), so no overlay mount is made here.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { inventoryFromSnapshotter } from '../../src/cache/snapshot-inventory.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf, isRoot } from '../helpers/skip.js';

describeIf(isRoot, 'the overlay2 snapshotter keeps Docker-compatible ownership; it needs root', 'cache over the real overlay2 snapshotter', () => {
  let dir: string;
  let snapshotter: Overlay2Snapshotter;
  let storage: CacheStorage;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-cache-snap-'));
    snapshotter = new Overlay2Snapshotter({ root: dir });
    storage = await CacheStorage.open({ root: dir, inventory: inventoryFromSnapshotter(snapshotter, { overlayDir: join(dir, 'overlay2') }) });
  });
  afterEach(async () => {
    storage.close();
    await snapshotter.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function layer(parent: string | undefined, bytes: number): Promise<string> {
    const a = await snapshotter.prepare(parent ? { parent } : {});
    await writeFile(join(a.upperDir, 'data'), Buffer.alloc(bytes, 1));
    return snapshotter.commit(a);
  }

  test('a listing answers known snapshots from memory and stops listing one another process removed', async () => {
    const base = await layer(undefined, 16);
    const child = await layer(base, 16);
    const first = await snapshotter.list();
    expect(first.map((s) => s.id).sort()).toEqual([base, child].sort());
    const link = join(dir, 'overlay2', child, 'link');
    // createdAt is the link file's mtime, written once at prepare: the same from memory.
    expect(first.find((s) => s.id === child)?.createdAt).toBe((await stat(link)).mtimeMs);
    expect((await snapshotter.list()).find((s) => s.id === child)).toEqual(first.find((s) => s.id === child));
    // Another process's removal renames the directory away first: the next listing does not see it.
    await rename(join(dir, 'overlay2', child), join(dir, 'overlay2', `trash-${child}`));
    expect((await snapshotter.list()).map((s) => s.id)).toEqual([base]);
    // The walk decides by the same listing: the record of the gone snapshot is all that is left.
    await storage.records.save({ key: 'sha256:gone', output: 0, resultId: child, recordType: 'regular', description: 'RUN' });
    expect((await storage.check()).problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'missing-snapshot' })]));
    await rename(join(dir, 'overlay2', `trash-${child}`), join(dir, 'overlay2', child));
  });

  test('du measures real snapshots, prune removes them children first, check sees removals', async () => {
    const base = await layer(undefined, 64 * 1024);
    const child = await layer(base, 128 * 1024);
    const other = await layer(undefined, 32 * 1024);
    await storage.records.save({ key: 'sha256:base', output: 0, resultId: base, recordType: 'source.image', description: 'FROM' });
    await storage.records.save({ key: 'sha256:child', output: 0, resultId: child, recordType: 'regular', description: 'RUN' });
    await storage.records.save({ key: 'sha256:other', output: 0, resultId: other, recordType: 'regular', description: 'COPY' });

    const du = await storage.du();
    const size = (k: string): number => du.records.find((r) => r.key === k)?.size ?? -1;
    expect(size('sha256:base')).toBeGreaterThanOrEqual(64 * 1024);
    expect(size('sha256:child')).toBeGreaterThanOrEqual(128 * 1024);
    expect(du.records.find((r) => r.key === 'sha256:base')?.shared).toBe(true);
    expect((await storage.check()).ok).toBe(true);

    // A snapshot removed behind the cache's back is a missing-snapshot problem; repair drops its record.
    await snapshotter.remove(other);
    expect((await storage.check()).problems).toEqual([{ kind: 'missing-snapshot', key: 'sha256:other', output: 0, resultId: other }]);
    await storage.repair();
    expect((await storage.check()).ok).toBe(true);

    // A held child keeps the whole chain; released, prune removes child then base.
    const lease = await storage.refs.acquire(child, 'test');
    expect((await storage.prune()).records).toEqual([]);
    await lease.release();
    const r = await storage.prune();
    expect(r.snapshotsRemoved).toEqual([child, base]);
    expect(await snapshotter.list()).toEqual([]);
  });

  test('an active snapshot of a running build protects its committed parent', async () => {
    const base = await layer(undefined, 1024);
    await storage.records.save({ key: 'sha256:base', output: 0, resultId: base, recordType: 'regular', description: 'FROM' });
    const active = await snapshotter.prepare({ parent: base });
    expect((await storage.prune({ all: true })).records).toEqual([]);
    expect((await snapshotter.stat(base)).kind).toBe('committed');
    await snapshotter.remove(active.id);
    expect((await storage.prune({ all: true })).snapshotsRemoved).toEqual([base]);
  });
});
