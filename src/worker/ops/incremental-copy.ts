/**
 * Incremental COPY (issue 14, docs/incremental-copy.md): a COPY from the build context that misses
 * only because some of its files changed builds its layer from the previous result of the same step
 * plus the file-level delta. The copy writes straight into the new snapshot's `diff/` (no overlay
 * mount), and every regular file that a full copy would make identical to the previous layer's file
 * at the same path is hard-linked from that layer's `diff/` instead of copied.
 *
 * "Identical" is decided per file, from facts a full copy depends on: the source's content
 * fingerprint (the one its cache key read) and mtime equal to what the previous copy recorded in its
 * manifest, and the previous file's size, owner, permission bits and xattrs equal to what this copy
 * would give it. Directories, symlinks and changed or added files go through the normal copier;
 * removed files are simply not created. Two source files never share one earlier inode.
 *
 * Where that is exact (see `directCopyPlan`): one copy action, from the context, owner by id or
 * none, no archive unpacking, into a top-level path the parent snapshot does not have — so writing
 * into `diff/` is exactly what overlayfs would have written (nothing to copy up, no whiteouts).
 * Each such copy leaves a manifest beside its `diff/` for the next one.
 */
import type { Stats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import type { CopiedAttrs, FileReuse } from '../fileop/types.js';
import { copyableXattr } from '../fileop/metadata.js';
import { timestampSeconds } from '../fileop/timestamp.js';
import type { PbFileAction } from '../../llb/types.js';
import { cleanRooted } from '../../util/root-path.js';
import type { Snapshotter } from '../types.js';

/** Beside `diff/` in the snapshot's directory; removed with the snapshot. */
const MANIFEST = 'copy-sources.json';
const MANIFEST_VERSION = 1;

/** What the previous copy wrote: per destination path, its source's fingerprint and mtime. */
export interface CopyManifest {
  /** The action's time override (seconds), or null. */
  readonly time: number | null;
  readonly files: ReadonlyMap<string, { readonly fingerprint: string; readonly mtimeMs: number }>;
}

/** How many files an incremental copy linked and copied. */
export interface ReuseCounts {
  linked: number;
  copied: number;
}

function manifestPath(snapshots: Snapshotter, id: string): string {
  return join(dirname(snapshots.diffDir(id)), MANIFEST);
}

/**
 * Whether the op's output is exactly one copy action from the context whose destination can be
 * written straight into a new `diff/` with the same result as through the overlay mount.
 */
export async function directCopyPlan(
  chain: readonly PbFileAction[],
  opts: { readonly snapshots: Snapshotter; readonly parent: string | undefined; readonly sourceIsContext: boolean },
): Promise<boolean> {
  const a = chain[0];
  const c = a?.copy;
  if (chain.length !== 1 || !c || !opts.sourceIsContext) return false;
  if (c.attemptUnpackDockerCompatibility) return false;
  // Owner names are resolved in the merged destination's /etc files, which a bare diff/ lacks.
  if (c.owner?.user?.byName || c.owner?.group?.byName) return false;
  const dest = cleanRooted(c.dest?.startsWith('/') ? c.dest : posix.join('/', c.dest ?? ''));
  const first = dest.split('/').filter((x) => x !== '')[0];
  if (first === undefined) return false;
  if (opts.parent === undefined) return true;
  // Any entry of that name in any parent layer (file, directory, symlink, whiteout): full copy.
  for (const id of await opts.snapshots.chain(opts.parent)) {
    try {
      await lstat(join(opts.snapshots.diffDir(id), first));
      return false;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
  }
  return true;
}

/** The manifest a direct copy left beside snapshot `id`'s `diff/`, if any. */
export async function readManifest(snapshots: Snapshotter, id: string): Promise<CopyManifest | undefined> {
  let raw: string;
  try {
    raw = await readFile(manifestPath(snapshots, id), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(raw) as { version?: unknown; time?: unknown; files?: unknown };
    if (v.version !== MANIFEST_VERSION || !Array.isArray(v.files)) return undefined;
    const files = new Map<string, { fingerprint: string; mtimeMs: number }>();
    const f = v.files as unknown[];
    for (let i = 0; i + 2 < f.length; i += 3) {
      const [p, fp, m] = [f[i], f[i + 1], f[i + 2]];
      if (typeof p === 'string' && typeof fp === 'string' && typeof m === 'number') files.set(p, { fingerprint: fp, mtimeMs: m });
    }
    return { time: typeof v.time === 'number' ? v.time : null, files };
  } catch {
    return undefined;
  }
}

/** Collects what the copy wrote, for the next incremental copy. */
export class ManifestWriter {
  readonly #files: (string | number)[] = [];

  constructor(
    private readonly destRoot: string,
    private readonly srcRoot: string,
    private readonly fingerprints: ReadonlyMap<string, string>,
    private readonly time: number | null,
  ) {}

  add(src: string, st: Stats, dst: string): void {
    const fp = this.fingerprints.get(posix.relative(this.srcRoot, src));
    if (fp !== undefined) this.#files.push(posix.relative(this.destRoot, dst), fp, st.mtimeMs);
  }

  async write(snapshots: Snapshotter, id: string): Promise<void> {
    await writeFile(manifestPath(snapshots, id), JSON.stringify({ version: MANIFEST_VERSION, time: this.time, files: this.#files }));
  }
}

/** Copyable xattrs of a path, by name (none on error). */
function xattrsOf(p: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = listAttributesSync(p);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!copyableXattr(n)) continue;
    const v = getAttributeSync(p, n);
    if (v) out.set(n, v);
  }
  return out;
}

function sameXattrs(a: string, b: string): boolean {
  const x = xattrsOf(a);
  const y = xattrsOf(b);
  if (x.size !== y.size) return false;
  for (const [k, v] of x) if (!y.get(k)?.equals(v)) return false;
  return true;
}

/**
 * The copier's reuse hook for one incremental copy: links a file from `prevDiff` when the previous
 * copy wrote the same source content with the same mtime there and its metadata is what this copy
 * would set. Also feeds the manifest writer and counts linked and copied files.
 */
export function reuseFrom(opts: {
  readonly prevDiff: string;
  readonly manifest: CopyManifest | undefined;
  readonly destRoot: string;
  readonly srcRoot: string;
  /** Source fingerprints by context-relative path, as this step's cache key read them. */
  readonly fingerprints: ReadonlyMap<string, string>;
  readonly action: NonNullable<PbFileAction['copy']>;
  readonly out: ManifestWriter;
  readonly counts: ReuseCounts;
}): FileReuse {
  const time = timestampSeconds(opts.action) ?? null;
  const manifest = opts.manifest?.time === time ? opts.manifest : undefined;
  /** Earlier inode (dev:ino) → the source inode linked to it: two sources never share one. */
  const claimed = new Map<string, string>();
  return {
    linkSource(src: string, st: Stats, dst: string, want: CopiedAttrs): string | undefined {
      if (!manifest) return undefined;
      const rel = posix.relative(opts.destRoot, dst);
      const was = manifest.files.get(rel);
      if (was === undefined || was.mtimeMs !== st.mtimeMs) return undefined;
      if (opts.fingerprints.get(posix.relative(opts.srcRoot, src)) !== was.fingerprint) return undefined;
      const prev = join(opts.prevDiff, rel);
      const p = lstatSync(prev, { throwIfNoEntry: false });
      if (!p?.isFile() || p.size !== st.size || p.uid !== want.uid || p.gid !== want.gid || (p.mode & 0o7777) !== want.bits) return undefined;
      const key = `${p.dev}:${p.ino}`;
      const source = `${st.dev}:${st.ino}`;
      const owner = claimed.get(key);
      if (owner !== undefined && owner !== source) return undefined;
      if (!sameXattrs(src, prev)) return undefined;
      claimed.set(key, source);
      return prev;
    },
    written(src: string, st: Stats, dst: string, how: 'linked' | 'copied' | 'hardlink'): void {
      if (how === 'linked') opts.counts.linked++;
      else if (how === 'copied') opts.counts.copied++;
      opts.out.add(src, st, dst);
    },
  };
}
