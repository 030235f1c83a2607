/** Test helper: builds a real directory tree in a fresh temp dir and lists walks of it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { walkContext } from '../../../src/util/pattern-matcher/index.js';
import type { WalkContextOptions } from '../../../src/util/pattern-matcher/index.js';

/** Creates `entries` under a new temp dir: a trailing `/` makes a directory, anything else a file. */
export function makeTree(entries: readonly string[], contents: Readonly<Record<string, string | Buffer>> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'tsbuild-pm-'));
  for (const e of entries) {
    if (e.endsWith('/')) {
      mkdirSync(join(root, e), { recursive: true });
    } else {
      mkdirSync(dirname(join(root, e)), { recursive: true });
      writeFileSync(join(root, e), contents[e] ?? e);
    }
  }
  return root;
}

export function removeTree(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** The walk as `dir <path>` / `file <path>` lines, in walk order (fsutil's test notation). */
export async function walkLines(root: string, opts: WalkContextOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkContext(root, opts)) {
    out.push(`${e.stat.isDirectory() ? 'dir' : 'file'} ${e.path}`);
  }
  return out;
}
