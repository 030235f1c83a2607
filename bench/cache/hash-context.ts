/**
 * Context hashing throughput: files/s and MB/s for contexts of 1,000 and 100,000 files, cold (empty
 * stat cache: every file is read and hashed) and warm (stat cache filled: files are only stat'ed).
 * The page cache is warm in both cases (the tree was just written); the stat-cache effect is what
 * is measured. Run: npm run build && node dist/bench/cache/hash-context.js [--files N,N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { ContextHasher } from '../../src/cache/context-hash.js';
import type { SnapshotInventory } from '../../src/cache/types.js';
import { makeTree } from '../lib/context-tree.js';

/** The bench touches no snapshots. */
const noSnapshots: SnapshotInventory = {
  exists: async () => false,
  remove: async () => undefined,
  usage: async () => ({ bytes: 0 }),
  list: async () => [],
  footprint: async () => ({ bytes: 0 }),
  leftovers: async () => [],
  removeLeftovers: async () => [],
};

export function fmt(files: number, bytes: number, ms: number): string {
  const s = ms / 1000;
  return `${ms.toFixed(0).padStart(7)} ms  ${(files / s).toFixed(0).padStart(9)} files/s  ${(bytes / 1e6 / s).toFixed(1).padStart(8)} MB/s`;
}

/** Hashing times (ms) of one context: no stat cache, filling an empty one, then with it warm. */
export interface HashingTimes {
  readonly noCacheMs: number;
  readonly coldMs: number;
  readonly warmMs: number;
}

/**
 * Hashes `ctx` three times with a stat cache in `dbDir` (created, left for the caller to remove).
 * The files must be older than the stat cache's racy window (2 s) for the warm run to trust them.
 */
export async function measureHashing(ctx: string, dbDir: string): Promise<HashingTimes> {
  const storage = await CacheStorage.open({ root: dbDir, inventory: noSnapshots });
  try {
    const hasher = await ContextHasher.create();
    const t0 = performance.now();
    const noCache = await hasher.hashContext({ root: ctx });
    const t1 = performance.now();
    const cold = await hasher.hashContext({ root: ctx, statCache: storage.statCache });
    const t2 = performance.now();
    const warm = await hasher.hashContext({ root: ctx, statCache: storage.statCache });
    const t3 = performance.now();
    if (noCache.digest !== cold.digest || cold.digest !== warm.digest) throw new Error('digests differ between runs');
    if (warm.filesRead !== 0) throw new Error(`warm run read ${warm.filesRead} files`);
    return { noCacheMs: t1 - t0, coldMs: t2 - t1, warmMs: t3 - t2 };
  } finally {
    storage.close();
  }
}

async function bench(files: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-bench-hash-'));
  try {
    const ctx = join(dir, 'ctx');
    const bytes = await makeTree(ctx, files);
    // Let the files age past the stat cache's racy window so that a warm run can trust them.
    await new Promise((r) => setTimeout(r, 2100));
    const t = await measureHashing(ctx, join(dir, 'root'));
    console.log(`context of ${files} files, ${(bytes / 1e6).toFixed(1)} MB:`);
    console.log(`  cold, no stat cache     ${fmt(files, bytes, t.noCacheMs)}`);
    console.log(`  cold, filling the cache ${fmt(files, bytes, t.coldMs)}`);
    console.log(`  warm stat cache         ${fmt(files, bytes, t.warmMs)}   (0 files read)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Run only when executed, not when bench/cache/run.ts imports measureHashing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv.indexOf('--files');
  const sizes = arg > 0 ? (process.argv[arg + 1] ?? '').split(',').map(Number) : [1000, 100_000];
  for (const n of sizes) await bench(n);
}
