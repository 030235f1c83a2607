/**
 * Context hashing throughput: files/s and MB/s for contexts of 1,000 and 100,000 files, cold (empty
 * stat cache: every file is read and hashed) and warm (stat cache filled: files are only stat'ed).
 * The page cache is warm in both cases (the tree was just written); the stat-cache effect is what
 * is measured. Run: npm run build && node dist/bench/cache/hash-context.js [--files N,N]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { ContextHasher } from '../../src/cache/context-hash.js';
import type { SnapshotInventory } from '../../src/cache/types.js';

/** The bench touches no snapshots. */
const noSnapshots: SnapshotInventory = {
  exists: async () => false,
  remove: async () => undefined,
  usage: async () => ({ bytes: 0 }),
  list: async () => [],
};

/** Deterministic sizes: mostly small source-like files, some larger ones. */
function sizeOf(i: number): number {
  const r = (i * 2654435761) % 1000;
  if (r < 700) return 200 + (r % 1800); // 0.2–2 KB
  if (r < 980) return 4096 + r * 8; // 4–12 KB
  return 64 * 1024 + r * 64; // 64–128 KB
}

async function makeTree(root: string, files: number): Promise<number> {
  let bytes = 0;
  const perDir = 100;
  for (let d = 0; d * perDir < files; d++) {
    const dir = join(root, `pkg${Math.floor(d / 100)}`, `mod${d % 100}`);
    await mkdir(dir, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let i = d * perDir; i < Math.min(files, (d + 1) * perDir); i++) {
      const size = sizeOf(i);
      bytes += size;
      writes.push(writeFile(join(dir, `file${i}.ts`), Buffer.alloc(size, i % 251)));
    }
    await Promise.all(writes);
  }
  return bytes;
}

function fmt(files: number, bytes: number, ms: number): string {
  const s = ms / 1000;
  return `${ms.toFixed(0).padStart(7)} ms  ${(files / s).toFixed(0).padStart(9)} files/s  ${(bytes / 1e6 / s).toFixed(1).padStart(8)} MB/s`;
}

async function bench(files: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-bench-hash-'));
  try {
    const ctx = join(dir, 'ctx');
    const bytes = await makeTree(ctx, files);
    // Let the files age past the stat cache's racy window so that a warm run can trust them.
    await new Promise((r) => setTimeout(r, 2100));
    const storage = await CacheStorage.open({ root: join(dir, 'root'), inventory: noSnapshots });
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
      console.log(`context of ${files} files, ${(bytes / 1e6).toFixed(1)} MB:`);
      console.log(`  cold, no stat cache     ${fmt(files, bytes, t1 - t0)}`);
      console.log(`  cold, filling the cache ${fmt(files, bytes, t2 - t1)}`);
      console.log(`  warm stat cache         ${fmt(files, bytes, t3 - t2)}   (${warm.filesRead} files read)`);
    } finally {
      storage.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const arg = process.argv.indexOf('--files');
const sizes = arg > 0 ? (process.argv[arg + 1] ?? '').split(',').map(Number) : [1000, 100_000];
for (const n of sizes) await bench(n);
