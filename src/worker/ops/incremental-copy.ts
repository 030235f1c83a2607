/**
 * Incremental COPY (issue 14, docs/incremental-copy.md): a COPY from the build context that misses
 * only because some of its files changed builds its layer from the previous result of the same step
 * plus the file-level delta. The copy writes straight into the new snapshot's `diff/` (no overlay
 * mount), and every regular file that a full copy would make identical to the previous layer's file
 * at the same path is hard-linked from that layer's `diff/` instead of copied.
 *
 * "Identical" is decided per file, from every fact a full copy depends on, as the previous copy
 * recorded them in its manifest: the source's fingerprint (content, type, mode, uid, gid: the one the
 * cache key read), its mtime and xattrs, and the owner and permission bits the copy gave the file
 * (after --chown/--chmod). Directories, symlinks and changed or added files go through the normal
 * copier; removed files are simply not created. Two source files never share one earlier inode.
 *
 * Where that is exact (see `directCopyPlan`): one copy action, from the context, owner by id or
 * none, no archive unpacking, into a path whose existing ancestors in the parent layers are plain
 * directories (made in `diff/` first as overlayfs' copy-up would, copy-ancestors.ts) and below which
 * the parent layers show nothing — so writing into `diff/` is exactly what overlayfs would have
 * written (no whiteouts, no opaque directories). Each such copy leaves a manifest beside its
 * `diff/` for the next one.
 */
import { createHash } from 'node:crypto';
import { lstatSync, type Stats } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import type { CopiedAttrs, FileReuse, WrittenHow } from '../fileop/types.js';
import { copyableXattr } from '../fileop/metadata.js';
import type { PbFileAction } from '../../llb/types.js';
import { cleanRooted, splitComponents } from '../../util/root-path.js';
import { lowerAncestors, type LowerAncestor } from './copy-ancestors.js';
import { WeighedLru } from '../../util/weighed-lru.js';
import type { Snapshotter } from '../types.js';

/** Beside `diff/` in the snapshot's directory; removed with the snapshot. */
const MANIFEST = 'copy-sources.json';
const MANIFEST_VERSION = 4;
/** Values per file in the manifest's flat array. */
const FIELDS = 9;
/** A source's ctime vouches for its xattrs only when it was this much older than the copy (racy ctime ticks). */
const RACY_WINDOW_MS = 2000;

/** What the previous copy wrote at one destination path (a regular file). */
export interface ManifestEntry {
  /** The source's fingerprint as the step's cache key read it (content, type, mode, uid, gid). */
  readonly fingerprint: string;
  /** The source's mtime as the copy read it (what the copy's setTimes was given). */
  readonly mtimeMs: number;
  /** `uid:gid:bits` (octal) the copy gave the file (after --chown/--chmod). */
  readonly attrs: string;
  /** Digest of the source's copyable xattrs; '' for none. */
  readonly xattrs: string;
  /** Part of a hardlink group of the source: not a file of its own inode in that layer. */
  readonly group: boolean;
  /**
   * The source's inode and ctime when `xattrs` was listed; ctime -1 when it was too recent to vouch
   * for anything. Setting an xattr changes the ctime, so a source with both unchanged has the same
   * xattrs and is not listed again (listxattr of 100,000 sources was ~1 s of a one-file edit).
   */
  readonly srcIno: number;
  readonly srcCtimeMs: number;
  /**
   * The layer's file is the source's own inode (`srcIno`): linked from the daemon's context copy, or
   * from an earlier layer's file that was. Such a source is an inode a committed layer holds, which
   * nothing changes (docs/incremental-copy.md), so its xattrs are still the recorded ones; its ctime
   * cannot vouch for them, since every link of the inode into a new layer changes it.
   */
  readonly shared: boolean;
}

export interface CopyManifest {
  /** The action's time override (seconds), or null. */
  readonly time: number | null;
  readonly files: ReadonlyMap<string, ManifestEntry>;
}

/** How many files an incremental copy linked and copied. */
export interface ReuseCounts {
  linked: number;
  copied: number;
}

function manifestPath(snapshots: Pick<Snapshotter, 'diffDir'>, id: string): string {
  return join(dirname(snapshots.diffDir(id)), MANIFEST);
}

/** How a direct copy is written: the destination's ancestors the parent layers already have. */
export interface DirectCopyPlan {
  /** Made in `diff/` first, as overlayfs' copy-up would (copy-ancestors.ts); outermost first. */
  readonly ancestors: readonly LowerAncestor[];
}

/**
 * Whether the op's output is exactly one copy action from the context whose destination can be
 * written straight into a new `diff/` with the same result as through the overlay mount, and how.
 */
export async function directCopyPlan(
  chain: readonly PbFileAction[],
  opts: { readonly snapshots: Snapshotter; readonly parent: string | undefined; readonly sourceIsContext: boolean },
): Promise<DirectCopyPlan | undefined> {
  const a = chain[0];
  const c = a?.copy;
  if (chain.length !== 1 || !c || !opts.sourceIsContext) return undefined;
  if (c.attemptUnpackDockerCompatibility) return undefined;
  // Owner names are resolved in the merged destination's /etc files, which a bare diff/ lacks.
  if (c.owner?.user?.byName || c.owner?.group?.byName) return undefined;
  const dest = cleanRooted(c.dest?.startsWith('/') ? c.dest : posix.join('/', c.dest ?? ''));
  const components = splitComponents(dest);
  if (components.length === 0) return undefined;
  if (opts.parent === undefined) return { ancestors: [] };
  const diffDirs = (await opts.snapshots.chain(opts.parent)).map((id) => opts.snapshots.diffDir(id));
  const ancestors = lowerAncestors(diffDirs, components);
  return ancestors === undefined ? undefined : { ancestors };
}

/**
 * Manifests this process wrote or read, by snapshot id, the least recently used dropped beyond
 * `maxFiles` files in all. A snapshot's manifest never changes once its copy is done (ids are never
 * reused), so the next incremental copy of a step takes its previous copy's from here instead of
 * parsing it again (100,000 files: ~10 MB of JSON, ~0.2–0.4 s of a one-file edit, issue 14).
 */
export class ManifestCache extends WeighedLru<CopyManifest> {
  constructor(maxFiles = 250_000) {
    super(maxFiles, (m) => m.files.size);
  }
}

/** The manifest a direct copy left beside snapshot `id`'s `diff/`, if any (from `cache` when it has it). */
export async function readManifest(snapshots: Pick<Snapshotter, 'diffDir'>, id: string, cache?: ManifestCache): Promise<CopyManifest | undefined> {
  const hit = cache?.get(id);
  if (hit) return hit;
  let raw: string;
  try {
    raw = await readFile(manifestPath(snapshots, id), 'utf8');
  } catch {
    return undefined;
  }
  let m: CopyManifest;
  try {
    const v = JSON.parse(raw) as { version?: unknown; time?: unknown; files?: unknown };
    if (v.version !== MANIFEST_VERSION || !Array.isArray(v.files)) return undefined;
    const files = new Map<string, ManifestEntry>();
    const f = v.files as unknown[];
    for (let i = 0; i + FIELDS - 1 < f.length; i += FIELDS) {
      const p = f[i], fingerprint = f[i + 1], mtimeMs = f[i + 2], attrs = f[i + 3], xattrs = f[i + 4], srcIno = f[i + 6], srcCtimeMs = f[i + 7];
      if (typeof p !== 'string' || typeof fingerprint !== 'string' || typeof mtimeMs !== 'number' || typeof attrs !== 'string' || typeof xattrs !== 'string') continue;
      if (typeof srcIno !== 'number' || typeof srcCtimeMs !== 'number') continue;
      files.set(p, { fingerprint, mtimeMs, attrs, xattrs, group: f[i + 5] === 1, srcIno, srcCtimeMs, shared: f[i + 8] === 1 });
    }
    m = { time: typeof v.time === 'number' ? v.time : null, files };
  } catch {
    return undefined;
  }
  cache?.set(id, m);
  return m;
}

/** Collects what the copy wrote, for the next incremental copy. */
export class ManifestWriter {
  readonly #files = new Map<string, ManifestEntry>();

  constructor(private readonly time: number | null) {}

  add(dest: string, e: ManifestEntry): void {
    this.#files.set(dest, e);
  }

  /** Writes the manifest beside snapshot `id`'s `diff/` (and keeps it in `cache`, if given). */
  async write(snapshots: Pick<Snapshotter, 'diffDir'>, id: string, cache?: ManifestCache): Promise<void> {
    const flat: (string | number)[] = [];
    for (const [dest, e] of this.#files) flat.push(dest, e.fingerprint, e.mtimeMs, e.attrs, e.xattrs, e.group ? 1 : 0, e.srcIno, e.srcCtimeMs, e.shared ? 1 : 0);
    await writeFile(manifestPath(snapshots, id), JSON.stringify({ version: MANIFEST_VERSION, time: this.time, files: flat }));
    cache?.set(id, { time: this.time, files: this.#files });
  }
}

/** Digest of a path's copyable xattrs ('' for none, and when they cannot be listed). */
function xattrDigest(p: string): string {
  let names: string[];
  try {
    names = listAttributesSync(p);
  } catch {
    return '';
  }
  if (names.length === 0) return '';
  const h = createHash('sha256');
  for (const n of names.filter(copyableXattr).sort()) {
    const v = getAttributeSync(p, n);
    if (v) h.update(`${n}\0${v.length}\0`).update(v);
  }
  return h.digest('hex');
}

/**
 * `p` relative to `root` (a path the copier made by joining below it). Made once per root: it runs
 * several times for each of 100,000 files of an edit's COPY (issue 14).
 */
function relativeTo(root: string): (p: string) => string {
  const prefix = `${root}/`;
  return (p) => (p.startsWith(prefix) ? p.slice(prefix.length) : posix.relative(root, p));
}

function attrsKey(a: CopiedAttrs): string {
  return `${a.uid}:${a.gid}:${a.bits.toString(8)}`;
}

/**
 * The copier's reuse hook for one direct copy: links a file from `prevDiff` when the previous copy
 * wrote that path from a source with the same fingerprint, mtime and xattrs, and gave it the owner
 * and bits this copy would; feeds the manifest writer and counts linked and copied files.
 *
 * Why no file of the previous layer is read: its content, size, mode, owner, times and xattrs are
 * exactly what the previous copy made from a source whose facts its manifest records (a committed
 * layer never changes), so equal facts mean an equal file. And why two sources never share one
 * earlier inode: in a layer, only a source hardlink group (marked `group`, never linked from) puts
 * several paths on one inode; every other path links the same path of the layer before, or a
 * context file no layer held (FileOpContext.linkSources: once per inode), so by induction the
 * unmarked paths of a layer are distinct inodes.
 */
export function reuseFrom(opts: {
  readonly prevDiff: string | undefined;
  readonly manifest: CopyManifest | undefined;
  readonly destRoot: string;
  readonly srcRoot: string;
  /** Source fingerprints by context-relative path, as this step's cache key read them. */
  readonly fingerprints: ReadonlyMap<string, string>;
  readonly time: number | null;
  readonly out: ManifestWriter;
  readonly counts: ReuseCounts;
  /**
   * Whether two source paths may be links of one file (false for the daemon's context copy, whose
   * files' link counts only say which layers took them by link: BuildRequest.contextLinkable).
   */
  readonly sourceHardlinks: boolean;
}): FileReuse {
  const manifest = opts.manifest?.time === opts.time ? opts.manifest : undefined;
  const prevDiff = opts.prevDiff;
  const destRel = relativeTo(opts.destRoot);
  const srcRel = relativeTo(opts.srcRoot);
  /** The file system of the earlier layer (an inode number means one file only within one). */
  let prevDev: number | undefined;
  /**
   * What linkSource worked out for the file it was last asked about (the copier calls written for
   * that same file next): its paths' relative forms, fingerprint and attrs key, the source's xattr
   * digest once listed, and whether the source is the earlier layer's file itself.
   */
  let last: { readonly dst: string; readonly rel: string; readonly fingerprint: string | undefined; readonly attrs: string; digest: string | undefined; shared: boolean } | undefined;
  return {
    linkSource(src: string, st: Stats, dst: string, want: CopiedAttrs): string | undefined {
      if (!manifest || prevDiff === undefined) return undefined;
      const rel = destRel(dst);
      const mine = { dst, rel, fingerprint: opts.fingerprints.get(srcRel(src)), attrs: attrsKey(want), digest: undefined as string | undefined, shared: false };
      last = mine;
      const was = manifest.files.get(rel);
      if (was === undefined || was.group || was.mtimeMs !== st.mtimeMs || was.attrs !== mine.attrs) return undefined;
      if (mine.fingerprint !== was.fingerprint) return undefined;
      // The source is the very inode the earlier layer holds at this path (alive: that layer is
      // leased while the copy runs, so its number names no other file of that file system).
      mine.shared = was.shared && was.srcIno === st.ino && st.dev === (prevDev ??= lstatSync(prevDiff).dev);
      const unchanged = mine.shared || (was.srcCtimeMs >= 0 && was.srcCtimeMs === st.ctimeMs && was.srcIno === st.ino);
      mine.digest = unchanged ? was.xattrs : xattrDigest(src);
      if (mine.digest !== was.xattrs) return undefined;
      return `${prevDiff}/${rel}`;
    },
    written(src: string, st: Stats, dst: string, how: WrittenHow, want: CopiedAttrs, listed?: ''): void {
      if (how === 'linked') opts.counts.linked++;
      else if (how === 'copied' || how === 'source') opts.counts.copied++;
      const known = last?.dst === dst ? last : undefined;
      const fingerprint = known ? known.fingerprint : opts.fingerprints.get(srcRel(src));
      if (fingerprint === undefined) return;
      const xattrs = known?.digest ?? listed ?? xattrDigest(src);
      const srcCtimeMs = Date.now() - st.ctimeMs >= RACY_WINDOW_MS ? st.ctimeMs : -1;
      const shared = how === 'source' || (how === 'linked' && known?.shared === true);
      opts.out.add(known?.rel ?? destRel(dst), {
        fingerprint, mtimeMs: st.mtimeMs, attrs: known?.attrs ?? attrsKey(want), xattrs, group: opts.sourceHardlinks && st.nlink > 1, srcIno: st.ino, srcCtimeMs, shared,
      });
    },
  };
}
