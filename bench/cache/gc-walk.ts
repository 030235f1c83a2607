/**
 * A garbage collection on a data root where everything is held, i.e. the walk every collection
 * starts with (src/cache/reachability.ts) and nothing to remove: its wall time and CPU on N
 * committed snapshots, each held by a cache record and with a layer blob in the content store, as
 * a daemon's root is after many builds. The first walk reads every snapshot's files; the later
 * ones (what a daemon's collections after builds cost) are the median.
 *
 *   npm run build && node dist/bench/cache/gc-walk.js [--snapshots 1000,5000,20000] [--runs 9] [--dir /var/tmp]
 *
 * Needs root (the snapshotter keeps Docker-compatible ownership). The data root is removed at the
 * end, also after a failure or Ctrl-C.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { inventoryFromSnapshotter } from '../../src/cache/snapshot-inventory.js';
import { throwIfAborted } from '../../src/util/errors.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';
import { intList, parseFlags, positiveInt } from '../lib/args.js';
import { benchMain } from '../lib/bench-main.js';

const USAGE = 'usage: node dist/bench/cache/gc-walk.js [--snapshots N,N] [--runs N] [--dir DIR]';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** Chains of 50 layers (a build's depth), each layer a record's result with an uncompressed blob. */
async function fill(snapshotter: Overlay2Snapshotter, storage: CacheStorage, n: number, signal: AbortSignal): Promise<void> {
  let parent: string | undefined;
  for (let i = 0; i < n; i++) {
    throwIfAborted(signal);
    if (i % 50 === 0) parent = undefined;
    const a = await snapshotter.prepare(parent !== undefined ? { parent } : {});
    writeFileSync(join(a.upperDir, `f${i}`), `${i}\n`);
    const id = await snapshotter.commit(a);
    const blob = await storage.content.put(`layer ${i}\n`);
    storage.layerBlobs.put({ snapshotId: id, compression: 'uncompressed', blobDigest: blob.digest, diffId: blob.digest, size: blob.size, mediaType: 'application/vnd.oci.image.layer.v1.tar' });
    const key = `sha256:${createHash('sha256').update(`step ${i}`).digest('hex')}`;
    await storage.records.save({ key, output: 0, resultId: id, recordType: 'regular', description: `step ${i}` });
    parent = id;
  }
}

async function open(root: string): Promise<{ snapshotter: Overlay2Snapshotter; storage: CacheStorage }> {
  const snapshotter = new Overlay2Snapshotter({ root });
  return { snapshotter, storage: await CacheStorage.open({ root, inventory: inventoryFromSnapshotter(snapshotter, { overlayDir: join(root, 'overlay2') }) }) };
}

async function measure(n: number, runs: number, base: string, signal: AbortSignal): Promise<string> {
  const root = await mkdtemp(join(base, 'tsbuild-gc-walk-'));
  let { snapshotter, storage } = await open(root);
  try {
    const t0 = performance.now();
    await fill(snapshotter, storage, n, signal);
    const fillS = (performance.now() - t0) / 1000;
    // A process that starts on the root (a daemon): it knows none of the snapshots yet.
    storage.close();
    await snapshotter.close();
    ({ snapshotter, storage } = await open(root));
    const walls: number[] = [];
    const cpus: number[] = [];
    let first = 0;
    for (let i = 0; i <= runs; i++) {
      throwIfAborted(signal);
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      const r = await storage.collectGarbage({ signal });
      const wall = performance.now() - w0;
      const c = process.cpuUsage(c0);
      if (r.snapshotsRemoved.length > 0 || r.blobsRemoved.length > 0) throw new Error(`the collection removed ${r.snapshotsRemoved.length} snapshots and ${r.blobsRemoved.length} blobs from a root where everything is held`);
      if (i === 0) {
        first = wall;
        continue;
      }
      walls.push(wall);
      cpus.push((c.user + c.system) / 1000);
    }
    const w = median(walls);
    return `${String(n).padStart(7)} snapshots  first ${first.toFixed(1).padStart(7)} ms  then ${w.toFixed(1).padStart(7)} ms wall, ${median(cpus).toFixed(1).padStart(7)} ms CPU  (${(w / n * 1000).toFixed(1)} µs per snapshot; filled in ${fillS.toFixed(1)} s)`;
  } finally {
    storage.close();
    await snapshotter.close();
    await rm(root, { recursive: true, force: true });
  }
}

export async function main(argv: readonly string[], signal: AbortSignal): Promise<void> {
  const flags = parseFlags(argv, USAGE, {
    snapshots: { type: 'string', help: 'data-root sizes, comma-separated (default 1000,5000,20000)' },
    runs: { type: 'string', help: 'walks measured after the first (default 9)' },
    dir: { type: 'string', help: `where the data roots go (default ${tmpdir()})` },
  });
  const sizes = intList(flags, 'snapshots', [1000, 5000, 20000]);
  const runs = positiveInt(flags, 'runs', 9);
  const dir = typeof flags['dir'] === 'string' ? flags['dir'] : tmpdir();
  process.stdout.write(`tsbuild bench/cache/gc-walk: ${runs} walks per size after the first (medians), data roots under ${dir}\n`);
  for (const n of sizes) process.stdout.write(`${await measure(n, runs, dir, signal)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchMain('gc-walk', (signal) => main(process.argv.slice(2), signal));
}
