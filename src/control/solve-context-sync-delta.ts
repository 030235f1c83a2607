/**
 * Applying a journal delta (context-listing-delta.ts) to the daemon's copy of a context: the copy
 * equals the previous listing, so only the delta's paths are touched — removed entries deleted,
 * changed ones written or fetched, their modes, owners and times set, and the times of the
 * directories whose entries came or went put back as listed — instead of the full sync's walk,
 * lstat of every entry and comparison (at 100,000 files that full pass took seconds for a one-file
 * edit). The manifest (content digest per file) is kept exact: removed before any file is written
 * and rewritten at the end, as the full sync does, so a failure midway leaves none and the next
 * sync compares everything.
 */
import { chmodSync, lchownSync, lstatSync, lutimesSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { tsbuild } from '../client/gen/control.js';
import { Detacher } from './context-copy-detach.js';
import { kindOf } from './context-copy-listing.js';
import { search } from './context-listing-delta.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;


/** The directory `path` is in ('' for the root). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function lstatOrNone(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Times equal as far as lutimes can set them: it takes seconds as a double, which near today's
 * dates resolves a few hundred nanoseconds.
 */
export function sameTime(a: bigint, b: bigint): boolean {
  const d = a - b;
  return d < 1000n && d > -1000n;
}

/**
 * Sets mode, owner and time as listed: all of them when `fresh`, else the mode and owner where
 * they differ, and the time. A file a layer shares (a COPY linked it) is never changed in place:
 * when anything of it differs it gets its own inode first (context-copy-detach.ts); true when it did.
 */
function setAttributes(p: string, e: FileStat, fresh: boolean, detacher: Detacher): boolean {
  const kind = kindOf(e.mode ?? 0);
  let st = fresh ? undefined : lstatOrNone(p);
  const mode = (e.mode ?? 0) & 0o7777;
  const mtimeNs = BigInt(e.mtimeNs ?? 0);
  const sameMode = st !== undefined && (st.mode & 0o7777n) === BigInt(mode);
  const sameOwner = st !== undefined && st.uid === BigInt(e.uid ?? 0) && st.gid === BigInt(e.gid ?? 0);
  let detached = false;
  if (st?.isFile() === true && st.nlink > 1n) {
    if (sameMode && sameOwner && sameTime(st.mtimeNs, mtimeNs)) return false;
    detached = detacher.detach(p, st.nlink);
    st = undefined;
  }
  // The owner first: a chown clears set-user-ID and set-group-ID bits.
  const chown = !st || !sameOwner;
  if (chown) lchownSync(p, e.uid ?? 0, e.gid ?? 0);
  if (kind !== 'link' && (!st || !sameMode || (chown && (mode & 0o6000) !== 0))) chmodSync(p, mode);
  const mtime = Number(mtimeNs) / 1e9;
  lutimesSync(p, mtime, mtime);
  return detached;
}

/**
 * Makes `dir` (equal to the listing `merged` was made from) equal to `merged`. The files whose ids
 * are in `coming` are on their way unasked (SyncOptions.coming): each is written, also when the
 * copy holds its content.
 */
export async function applyDelta(dir: string, merged: readonly FileStat[], delta: { readonly changed: readonly FileStat[]; readonly removed: readonly string[] }, coming: ReadonlySet<number>, receive: (wanted: readonly FileStat[]) => Promise<{ bytes: number }>): Promise<{ bytes: number; files: number }> {
  const { changed, removed } = delta;
  const manifestFile = `${dir}.manifest.json`;
  // The manifest's read, removal and rewrite are synchronous: this runs between the client's delta
  // and the build's first COPY, and each thread-pool round trip (four for a read) waits for a pool
  // thread and a turn of the event loop, 1-2 ms each on a loaded machine (issue 14). Parsing and
  // serialising a large manifest hold the loop far longer than its read or write.
  let manifest: Record<string, { digest: string }> = {};
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, { digest: string }>;
  } catch {
    // None (a copy that never held a file has none) or unreadable: the copy is still the previous
    // listing (the store vouches for that); the delta's files are then all fetched, and the next
    // full sync, finding other files missing from the manifest, fetches them again.
  }
  const parents = new Set<string>();
  const wanted: FileStat[] = [];
  const fresh = new Set<string>();
  const work: (() => Promise<void> | void)[] = [];
  for (const path of removed) {
    delete manifest[path];
    const st = lstatOrNone(join(dir, path));
    if (st === undefined) continue;
    work.push(() => rmSync(join(dir, path), { recursive: true, force: true }));
    parents.add(parentOf(path));
  }
  for (const e of changed) {
    const path = e.path ?? '';
    const p = join(dir, path);
    const st = lstatOrNone(p);
    switch (kindOf(e.mode ?? 0)) {
      case 'dir':
        if (!st?.isDirectory()) {
          work.push(async () => { rmSync(p, { force: true }); await mkdir(p); });
          parents.add(parentOf(path));
          fresh.add(path);
        }
        break;
      case 'link':
        if (!st?.isSymbolicLink() || readlinkSync(p) !== e.linkTarget) {
          work.push(() => { rmSync(p, { recursive: true, force: true }); symlinkSync(e.linkTarget ?? '', p); });
          parents.add(parentOf(path));
          fresh.add(path);
        }
        delete manifest[path];
        break;
      case 'file':
        if (!st?.isFile() || !e.contentDigest || manifest[path]?.digest !== e.contentDigest || coming.has(e.fileId ?? 0)) {
          if (st !== undefined && !st.isFile()) work.push(() => rmSync(p, { recursive: true, force: true }));
          wanted.push(e);
          parents.add(parentOf(path));
          fresh.add(path);
        }
        break;
      case 'other':
        // Not part of the copy, as in the full sync.
        if (st !== undefined) {
          work.push(() => rmSync(p, { recursive: true, force: true }));
          parents.add(parentOf(path));
        }
        delete manifest[path];
        break;
    }
  }
  // From here the copy changes: without a manifest until it is rewritten below.
  rmSync(manifestFile, { force: true });
  for (const w of work) await w();
  const received = await receive(wanted);
  // Children before parents: a directory's time is set after its entries changed.
  const detacher = new Detacher(`${dir}.detach`);
  try {
    for (const e of [...changed].sort((a, b) => (b.path ?? '').length - (a.path ?? '').length)) {
      const kind = kindOf(e.mode ?? 0);
      if (kind === 'other') continue;
      if (setAttributes(join(dir, e.path ?? ''), e, fresh.has(e.path ?? ''), detacher)) parents.add(parentOf(e.path ?? ''));
      if (kind === 'file' && e.contentDigest) manifest[e.path ?? ''] = { digest: e.contentDigest };
      else delete manifest[e.path ?? ''];
    }
  } finally {
    detacher.finish();
  }
  for (const d of [...parents].sort((a, b) => b.length - a.length)) {
    if (d === '') continue;
    const i = search(merged, d);
    const e = i >= 0 ? merged[i] : undefined;
    if (e === undefined) continue;
    const mtime = Number(BigInt(e.mtimeNs ?? 0)) / 1e9;
    lutimesSync(join(dir, d), mtime, mtime);
  }
  writeFileSync(manifestFile, JSON.stringify(manifest));
  return { bytes: received.bytes, files: wanted.length };
}
