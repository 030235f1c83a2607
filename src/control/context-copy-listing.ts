/**
 * A client's context listing as the daemon's copy of the context (solve-context-sync.ts) takes it:
 * each entry's kind, read from its mode, and the checks that keep every listed path inside the
 * copy — relative, without empty, `.` or `..` segments, and under listed directories only (a path
 * under a listed symlink would be written wherever the link points).
 */
import type { tsbuild } from '../client/gen/control.js';
import { SolveContextErrors } from './solve-context-errors.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export function kindOf(mode: number): 'dir' | 'file' | 'link' | 'other' {
  switch (mode & S_IFMT) {
    case S_IFDIR: return 'dir';
    case S_IFREG: return 'file';
    case S_IFLNK: return 'link';
    default: return 'other';
  }
}

export function checkPath(p: string): void {
  if (p === '' || p.startsWith('/') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) throw SolveContextErrors.badPath(p);
}

/** The listing's entries by path, once each path is checked and every parent is a listed directory. */
export function listedByPath(entries: readonly FileStat[]): Map<string, FileStat> {
  const listed = new Map<string, FileStat>();
  for (const e of entries) {
    const path = e.path ?? '';
    checkPath(path);
    // Every parent must be a listed directory: a path under a listed symlink would be written
    // wherever the link points, outside the copy.
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = listed.get(parts.slice(0, i).join('/'));
      if (!parent || kindOf(parent.mode ?? 0) !== 'dir') throw SolveContextErrors.badPath(path);
    }
    listed.set(path, e);
  }
  return listed;
}
