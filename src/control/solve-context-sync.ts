/**
 * The daemon's copies of client contexts (Solve with CONTEXT_TRANSFER_SYNC). One directory per
 * context key (the client's host and context path, hashed with the caller's name so clients never
 * share a copy) under `<scratch>/contexts`, with a manifest of the content digest each file was
 * written from. A sync compares the client's listing with the manifest, fetches only the files
 * whose digest (or existence) differs, deletes what the listing no longer has, and sets modes,
 * owners and times as listed, so the engine builds from a directory equal to the client's context.
 * Builds of the same key wait for each other (the build reads the copy while it runs).
 *
 * Only a sync writes a copy, so a warm store remembers the digest of the listing each copy was
 * last made equal to: the same listing again (a no-op rebuild) is answered without touching the
 * copy — no manifest read, directory walk, lstat or time reset. A daemon restart, or a sync that
 * fails midway, forgets it and the next sync compares everything again.
 *
 * The listing's checks are context-copy-listing.ts; the fetched files are received by
 * context-copy-receive.ts; a journal delta is applied by solve-context-sync-delta.ts.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lchownSync, lstatSync, lutimesSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { lstat, lutimes, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listingDigest } from '../client/context-listing-digest.js';
import type { StatCacheEntry } from '../cache/types.js';
import type { tsbuild } from '../client/gen/control.js';
import { Detacher } from './context-copy-detach.js';
import { checkPath, kindOf, listedByPath } from './context-copy-listing.js';
import { receiveFiles, type FetchFiles } from './context-copy-receive.js';
import type { WrittenContent } from './context-copy-write.js';
import { SolveContextErrors } from './solve-context-errors.js';
import { applyDelta, parentOf, sameTime } from './solve-context-sync-delta.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

export interface SyncOptions {
  readonly signal: AbortSignal;
  /** `--max-context-size`; 0: unlimited. */
  readonly maxBytes: number;
  /**
   * Ids of the listed files the client sends unasked (ContextEntries.contents_follow): the sync
   * takes each of them, also one whose content the copy already holds, so none is left unread.
   */
  readonly coming?: ReadonlySet<number>;
}

export interface SyncReport {
  /** Bytes and files received in this sync. */
  readonly bytes: number;
  readonly files: number;
  /** Regular files in the context, and their total size. */
  readonly totalFiles: number;
  readonly totalBytes: number;
  /**
   * Entries the client listed, or 'unchanged' when it sent only its listing's digest (sync only),
   * 'journal' when it did so without walking because the daemon's context journal said nothing had changed,
   * `changed` when it sent only the entries at the paths the journal named (a delta).
   */
  readonly listing?: number | 'unchanged' | 'journal' | { readonly changed: number };
}

interface ManifestEntry {
  readonly digest: string;
}

/** Entries stat'ed between yields to the event loop (other builds keep moving). */
const STAT_BATCH = 256;

/**
 * lstat of each listed entry in the copy (undefined: missing), in listing order. Synchronous, as
 * the context walk does it (src/util/pattern-matcher/walk-context.ts): a cached inode's lstatSync
 * costs ~1 µs, fs.promises.lstat ~10 µs of main-thread work plus a thread-pool round trip.
 */
async function statAll(dir: string, entries: readonly FileStat[]): Promise<(BigIntStats | undefined)[]> {
  const out: (BigIntStats | undefined)[] = new Array<BigIntStats | undefined>(entries.length);
  for (const [i, e] of entries.entries()) {
    if (i > 0 && i % STAT_BATCH === 0) await new Promise<void>((r) => setImmediate(r));
    try {
      out[i] = lstatSync(join(dir, e.path ?? ''), { bigint: true, throwIfNoEntry: false });
    } catch {
      // ENOTDIR and the like: not there as listed; written afresh.
      out[i] = undefined;
    }
  }
  return out;
}

/**
 * The directories whose contents this sync changed: the parent of every entry written, replaced
 * or created (missing from `onDisk`). Their mtimes moved and must be set back.
 */
function changedDirs(entries: readonly FileStat[], onDisk: readonly (BigIntStats | undefined)[]): Set<string> {
  const dirs = new Set<string>();
  for (const [i, e] of entries.entries()) {
    if (onDisk[i] === undefined) dirs.add(parentOf(e.path ?? ''));
  }
  return dirs;
}

/** The totals of a listing, as `SyncReport` gives them. */
function totalsOf(entries: readonly FileStat[]): { totalFiles: number; totalBytes: number } {
  let totalFiles = 0;
  let totalBytes = 0;
  for (const e of entries) {
    if (kindOf(e.mode ?? 0) !== 'file') continue;
    totalFiles++;
    totalBytes += Number(e.size ?? 0);
  }
  return { totalFiles, totalBytes };
}

export class ContextSyncStore {
  readonly #root: string;
  readonly #locks = new Map<string, Promise<void>>();
  /** Copy directory → digest of the listing it was last synced to (only while it is still equal), and its totals. */
  readonly #synced = new Map<string, { readonly digest: string; readonly totalFiles: number; readonly totalBytes: number }>();

  readonly #written: WrittenContent | undefined;

  /** `root`: where the copies live (created when missing). */
  constructor(root: string, written?: WrittenContent) {
    this.#root = root;
    this.#written = written;
  }

  /** The directory for a client's key, held until `release` (later builds of the key wait). */
  async acquire(principal: string, key: string): Promise<{ readonly dir: string; release(): void }> {
    const name = createHash('sha256').update(`${principal}\0${key}`).digest('hex').slice(0, 32);
    const dir = join(this.#root, name);
    const before = this.#locks.get(dir) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const chained = before.then(() => mine);
    this.#locks.set(dir, chained);
    await before;
    return {
      dir,
      release: () => {
        release();
        if (this.#locks.get(dir) === chained) this.#locks.delete(dir);
      },
    };
  }

  /**
   * The digest of the listing `dir` was last made equal to, while it still is (a held directory's
   * copy changes only by its holder's sync); '' when unknown (never synced by this process, or a
   * sync failed midway).
   */
  knownDigest(dir: string): string {
    return this.#synced.get(dir)?.digest ?? '';
  }

  /**
   * The client says its listing's digest is `digest`, the one `dir` was last synced to: nothing to
   * do. Undefined when that is not (or no longer) the copy's digest; the listing is then needed.
   */
  unchanged(dir: string, digest: string): SyncReport | undefined {
    const known = this.#synced.get(dir);
    if (known === undefined || digest === '' || known.digest !== digest) return undefined;
    return { bytes: 0, files: 0, totalFiles: known.totalFiles, totalBytes: known.totalBytes, listing: 'unchanged' };
  }

  /**
   * Whether `dir` holds no file a sync would keep: never synced by this store and without a
   * manifest, so the next sync starts it afresh and fetches every listed file (ListFiles.send_contents).
   */
  holdsNoFiles(dir: string): boolean {
    return !this.#synced.has(dir) && !existsSync(`${dir}.manifest.json`);
  }

  /** Makes `dir` equal to the listing, fetching what it lacks. */
  async sync(dir: string, entries: readonly FileStat[], fetch: FetchFiles, opts: SyncOptions): Promise<SyncReport> {
    const digest = listingDigest(entries);
    const totals = totalsOf(entries);
    if (this.#synced.get(dir)?.digest === digest) return { bytes: 0, files: 0, ...totals, listing: entries.length };
    // From here the copy may change: it is vouched for again only once this sync completes.
    this.#synced.delete(dir);
    const report = await this.#sync(dir, entries, fetch, opts);
    this.#synced.set(dir, { digest, ...totals });
    return { ...report, listing: entries.length };
  }

  /**
   * Makes `dir`, synced to `previousDigest`, equal to `merged` — `previous` with the journal delta
   * `changed`/`removed` applied (context-listing-delta.ts) — touching only those paths
   * (solve-context-sync-delta.ts). A copy that is not (or no longer) at `previousDigest` is synced
   * in full.
   */
  async syncDelta(dir: string, previousDigest: string, merged: readonly FileStat[], delta: { readonly changed: readonly FileStat[]; readonly removed: readonly string[] }, fetch: FetchFiles, opts: SyncOptions): Promise<SyncReport> {
    if (previousDigest === '' || this.#synced.get(dir)?.digest !== previousDigest) return this.sync(dir, merged, fetch, opts);
    const digest = listingDigest(merged);
    const totals = totalsOf(merged);
    for (const e of delta.changed) checkPath(e.path ?? '');
    for (const p of delta.removed) checkPath(p);
    this.#synced.delete(dir);
    const applied = await applyDelta(dir, merged, delta, opts.coming ?? new Set(), (wanted) => receiveFiles(dir, wanted, fetch, { maxBytes: opts.maxBytes }));
    this.#synced.set(dir, { digest, ...totals });
    return { ...applied, ...totals, listing: merged.length };
  }

  async #sync(dir: string, entries: readonly FileStat[], fetch: FetchFiles, opts: SyncOptions): Promise<SyncReport> {
    const manifestFile = `${dir}.manifest.json`;
    let manifest: Record<string, ManifestEntry> = {};
    // A copy without a manifest is started afresh: empty, so nothing in it needs a look.
    let empty = false;
    try {
      manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, ManifestEntry>;
    } catch {
      await rm(dir, { recursive: true, force: true });
      empty = true;
    }
    await mkdir(dir, { recursive: true });

    const listed = listedByPath(entries);
    if (!empty) await this.#removeUnlisted(dir, '', listed);

    // One lstat per entry: a no-op sync of a large context is this walk and nothing else.
    const onDisk = empty ? new Array<BigIntStats | undefined>(entries.length).fill(undefined) : await statAll(dir, entries);
    const wanted: FileStat[] = [];
    let totalBytes = 0;
    let totalFiles = 0;
    for (const [i, e] of entries.entries()) {
      const p = join(dir, e.path ?? '');
      const st = onDisk[i];
      switch (kindOf(e.mode ?? 0)) {
        case 'dir':
          if (!st?.isDirectory()) await mkdir(p, { recursive: true });
          break;
        case 'link': {
          const current = st?.isSymbolicLink() ? await readlink(p).catch(() => undefined) : undefined;
          if (current !== e.linkTarget) {
            await rm(p, { force: true, recursive: true });
            await symlink(e.linkTarget ?? '', p);
            onDisk[i] = undefined;
          }
          break;
        }
        case 'file': {
          totalFiles++;
          totalBytes += Number(e.size ?? 0);
          if (!st?.isFile() || !e.contentDigest || manifest[e.path ?? '']?.digest !== e.contentDigest || opts.coming?.has(e.fileId ?? 0) === true) {
            wanted.push(e);
            onDisk[i] = undefined;
          }
          break;
        }
        case 'other':
          // Devices, fifos and sockets are not part of an image's COPY sources; they are skipped.
          break;
      }
    }

    // The manifest vouches for the bytes of the files present: it is removed before any file is
    // written and rewritten at the end, so a sync that fails midway leaves none and the next one
    // starts afresh. A sync that writes nothing keeps it (on a large context, parsing is cheaper
    // than rewriting). Removed files need no manifest change: a missing file is fetched anyway.
    // An entry merged from an earlier listing (context-listing-delta.ts) has no id to fetch it by:
    // the copy holds it already, or something is wrong.
    if (wanted.some((e) => !e.fileId)) throw SolveContextErrors.protocol('a listed file the copy lacks has no file id to fetch it by');
    if (wanted.length > 0) await rm(manifestFile, { force: true });
    const settled = new Set<FileStat>();
    const rows: StatCacheEntry[] | undefined = this.#written ? [] : undefined;
    const received = await receiveFiles(dir, wanted, fetch, { maxBytes: opts.maxBytes, settled, rows, written: this.#written });

    const next: Record<string, ManifestEntry> = {};
    // Children before parents, so a directory's time is set after its entries changed. Only
    // entries whose mode, owner or time differ are touched: each change bumps the file's ctime,
    // and the engine's stat cache (size, mtime, ctime, inode) would then re-read every file of
    // every build.
    const dirty = changedDirs(entries, onDisk);
    const detacher = new Detacher(`${dir}.detach`);
    try {
      let touched = 0;
      for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i] as FileStat;
        const path = e.path ?? '';
        const p = join(dir, path);
        const kind = kindOf(e.mode ?? 0);
        if (kind === 'other') continue;
        if (settled.has(e)) {
          if (e.contentDigest) next[path] = { digest: e.contentDigest };
          continue;
        }
        let st = onDisk[i];
        const mode = (e.mode ?? 0) & 0o7777;
        const uid = e.uid ?? 0;
        const gid = e.gid ?? 0;
        const mtimeNs = BigInt(e.mtimeNs ?? 0);
        // Synchronous, in slices between turns of the event loop: after a cold sync of many small
        // files every entry needs these three calls, and a thread-pool round trip each costs more
        // than the call.
        if (!st && ++touched % STAT_BATCH === 0) await new Promise<void>((r) => setImmediate(r));
        const sameOwner = st !== undefined && Number(st.uid) === uid && Number(st.gid) === gid;
        const sameMode = st !== undefined && (kind === 'link' || Number(st.mode & 0o7777n) === mode);
        // A file a layer shares (a COPY linked it) is never changed in place: it gets its own inode first.
        if (kind === 'file' && st && (!sameOwner || !sameMode || !sameTime(st.mtimeNs, mtimeNs)) && detacher.detach(p, st.nlink)) {
          st = undefined;
          dirty.add(parentOf(path));
        }
        // The owner first: a chown clears set-user-ID and set-group-ID bits.
        const chown = !st || !sameOwner;
        if (chown) lchownSync(p, uid, gid);
        if (kind !== 'link' && (!st || !sameMode || (chown && (mode & 0o6000) !== 0))) chmodSync(p, mode);
        if (!st || !sameTime(st.mtimeNs, mtimeNs) || (kind === 'dir' && dirty.has(path))) {
          const mtime = Number(mtimeNs) / 1e9;
          lutimesSync(p, mtime, mtime);
        }
        if (kind === 'file' && e.contentDigest) next[path] = { digest: e.contentDigest };
      }
    } finally {
      detacher.finish();
    }
    const rootStat = await lstat(dir);
    await lutimes(dir, rootStat.atime, rootStat.mtime);
    if (wanted.length > 0 || Object.keys(next).length !== Object.keys(manifest).length) await writeFile(manifestFile, JSON.stringify(next));
    if (rows !== undefined && rows.length > 0) this.#written?.remember(dir, rows);
    return { bytes: received.bytes, files: wanted.length, totalFiles, totalBytes };
  }

  async #removeUnlisted(dir: string, rel: string, listed: ReadonlyMap<string, FileStat>): Promise<void> {
    for (const d of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? d.name : `${rel}/${d.name}`;
      const want = listed.get(path);
      const have = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : 'other';
      if (!want || kindOf(want.mode ?? 0) !== have) await rm(join(dir, path), { recursive: true, force: true });
      else if (have === 'dir') await this.#removeUnlisted(dir, path, listed);
    }
  }
}
