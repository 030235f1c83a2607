/**
 * A synthetic build context shaped like a source tree: 100 files per directory, mostly small
 * source-like files and some larger ones, with deterministic sizes and contents. Shared by the
 * context-hashing and the no-op-rebuild benchmarks so both measure the same tree.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Deterministic sizes: mostly small source-like files, some larger ones. */
export function sizeOf(i: number): number {
  const r = (i * 2654435761) % 1000;
  if (r < 700) return 200 + (r % 1800); // 0.2–2 KB
  if (r < 980) return 4096 + r * 8; // 4–12 KB
  return 64 * 1024 + r * 64; // 64–128 KB
}

/** Writes `files` files under root (pkgN/modM/fileI.ts); returns their total bytes. */
export async function makeTree(root: string, files: number, opts: { readonly signal?: AbortSignal } = {}): Promise<number> {
  let bytes = 0;
  const perDir = 100;
  for (let d = 0; d * perDir < files; d++) {
    opts.signal?.throwIfAborted();
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
