/**
 * Real directories for file-op tests: a source root, a destination root and a canary directory
 * beside them (anything appearing in the canary, or changing on it, means a write escaped). Every
 * fixture lives in one temp dir removed by `cleanup()`.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { CopyAction } from '../../../src/worker/fileop/types.js';

export interface Roots {
  readonly base: string;
  readonly src: string;
  readonly dest: string;
  /** Outside both roots; tests point symlinks at it and check it stays untouched. */
  readonly canary: string;
  cleanup(): void;
}

export function makeRoots(): Roots {
  const base = mkdtempSync(join(tmpdir(), 'tsbuild-fileop-'));
  const src = join(base, 'src');
  const dest = join(base, 'dest');
  const canary = join(base, 'canary');
  for (const d of [src, dest, canary]) mkdirSync(d);
  writeFileSync(join(canary, 'keep'), 'canary');
  return { base, src, dest, canary, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** Writes files (string content) and symlinks (`{ link: target }`) and dirs (`{ dir: true }`) under root. */
export type TreeSpec = Readonly<Record<string, string | { readonly link: string } | { readonly dir: true }>>;

export function writeTree(root: string, spec: TreeSpec): void {
  for (const [p, v] of Object.entries(spec)) {
    const full = join(root, p);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof v === 'string') writeFileSync(full, v);
    else if ('link' in v) symlinkSync(v.link, full);
    else mkdirSync(full, { recursive: true });
  }
}

/** Sorted listing: `d path`, `f path`, `l path -> target`, `p path` (fifo). */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        out.push(`d ${rel}`);
        walk(full);
      } else if (st.isSymbolicLink()) out.push(`l ${rel} -> ${readlinkSync(full)}`);
      else if (st.isFIFO()) out.push(`p ${rel}`);
      else out.push(`f ${rel}`);
    }
  };
  walk(root);
  return out;
}

export function read(root: string, p: string): string {
  return readFileSync(join(root, p), 'utf8');
}

/** Permission bits of an entry (lstat). */
export function modeOf(root: string, p: string): number {
  return lstatSync(join(root, p)).mode & 0o7777;
}

/** The canary directory holds exactly its `keep` file with its original content. */
export function canaryIntact(r: Roots): boolean {
  return listTree(r.canary).join('\n') === 'f keep' && read(r.canary, 'keep') === 'canary';
}

/** The options Dockerfile COPY sets (BuildKit's dockerfile2llb), with `extra` on top. */
export function dockerCopy(src: string, dest: string, extra: CopyAction = {}): CopyAction {
  return { src, dest, followSymlink: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, mode: -1, timestamp: -1, ...extra };
}
