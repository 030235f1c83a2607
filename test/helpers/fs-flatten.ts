/**
 * Flattens an image the way a container runtime sees it: applies its layer tars in order, in
 * memory, honouring OCI whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`). The result is
 * a map path → entry (type, mode, owner, size, content hash, link target, hardlink group) that two
 * builders' outputs can be compared on. Test-only: Docker's output and tsbuild's go through the very
 * same code, so a comparison is apples to apples. Archives are read by image-archive.ts.
 */
import { posix } from 'node:path';
import { FlattenError, normalizeTarPath, readImageArchive, readTar, sha256 } from './image-archive.js';
import type { FlattenOptions, ImageArchive, TarEntry } from './image-archive.js';

export { FlattenError, normalizeTarPath, readImageArchive } from './image-archive.js';
export type { FlattenOptions, ImageArchive } from './image-archive.js';

export type FsEntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

/** One path of a flattened filesystem. */
export interface FsEntry {
  readonly type: FsEntryType;
  /** Permission bits plus setuid/setgid/sticky (07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of content for regular files; 0 for everything else. */
  readonly size: number;
  /** sha256 (hex) of a regular file's content. */
  readonly sha256?: string;
  /** A symlink's target, verbatim. */
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records: name → sha256 of the value. */
  readonly xattrs?: Readonly<Record<string, string>>;
  /** Seconds since the epoch. Informational: builders legitimately differ here. */
  readonly mtime: number;
  /** Every path (sorted, this one included) sharing this entry's inode; absent when it has one name. */
  readonly hardlinks?: readonly string[];
}

/** Absolute paths (`/etc/passwd`, the root itself excluded) → entries. */
export type FlatFs = ReadonlyMap<string, FsEntry>;

export interface Flattened {
  readonly fs: FlatFs;
  /** Per layer, the paths of lower layers that its whiteouts and opaque markers removed. */
  readonly removedByLayer: readonly (readonly string[])[];
  /** Per layer, how many tar entries it has (0: an empty tar, a step that changed nothing). */
  readonly entriesByLayer: readonly number[];
  /**
   * Per layer, how many of its entries changed the filesystem other than in mtimes: an entry for a
   * directory that already exists with the same mode, owner and xattrs does not count, nor does a
   * whiteout of nothing. 0: the layer is a no-op (e.g. only a parent directory's mtime moved).
   */
  readonly changesByLayer: readonly number[];
}


const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

// ---------------------------------------------------------------------------------------------
// Applying layers

interface Inode {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  sha256?: string;
  mtime: number;
  xattrs?: Record<string, string>;
  readonly names: Set<string>;
}

interface Node {
  readonly type: FsEntryType;
  readonly inode: Inode;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
}

const typeOf: Readonly<Record<string, FsEntryType>> = {
  'file': 'file',
  'contiguous-file': 'file',
  'directory': 'dir',
  'symlink': 'symlink',
  'character-device': 'char',
  'block-device': 'block',
  'fifo': 'fifo',
};

class Tree {
  readonly nodes = new Map<string, Node>();

  /** Removes `path` and everything below it; returns the removed paths. */
  removeTree(path: string): string[] {
    const gone = [...this.nodes.keys()].filter((p) => p === path || p.startsWith(`${path}/`));
    for (const p of gone) this.unlink(p);
    return gone;
  }

  /** Removes everything strictly below `dir`. */
  clearDir(dir: string): string[] {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const gone = [...this.nodes.keys()].filter((p) => p.startsWith(prefix));
    for (const p of gone) this.unlink(p);
    return gone;
  }

  private unlink(p: string): void {
    this.nodes.get(p)?.inode.names.delete(p);
    this.nodes.delete(p);
  }

  /** Missing parents appear as root-owned 0755 directories (what an applier's MkdirAll does). */
  ensureParents(path: string, where: string): void {
    const parent = posix.dirname(path);
    if (parent === '/') return;
    const n = this.nodes.get(parent);
    if (n && n.type !== 'dir') throw new FlattenError(`${where}: ${path} lies below ${parent}, which is a ${n.type}`);
    if (n) return;
    this.ensureParents(parent, where);
    this.set(parent, { type: 'dir', inode: { mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, names: new Set() } });
  }

  set(path: string, node: Node): void {
    const old = this.nodes.get(path);
    if (old && !(old.type === 'dir' && node.type === 'dir')) this.removeTree(path);
    else if (old) this.unlink(path);
    node.inode.names.add(path);
    this.nodes.set(path, node);
  }
}

function xattrsOf(pax: Readonly<Record<string, string>>): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pax)) if (k.startsWith('SCHILY.xattr.')) out[k.slice('SCHILY.xattr.'.length)] = sha256(v);
  return Object.keys(out).length > 0 ? out : undefined;
}

function inodeOf(e: TarEntry, type: FsEntryType): Inode {
  const h = e.header;
  const xattrs = xattrsOf(e.pax);
  return {
    mode: (h.mode ?? 0) & 0o7777,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    size: type === 'file' ? e.data.length : 0,
    ...(type === 'file' ? { sha256: sha256(e.data) } : {}),
    mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
    ...(xattrs ? { xattrs } : {}),
    names: new Set(),
  };
}

/** Whether applying the entry would change more than an existing directory's mtime. */
function changes(tree: Tree, e: TarEntry, path: string): boolean {
  const old = tree.nodes.get(path);
  if (e.header.type !== 'directory' || old?.type !== 'dir') return true;
  const i = inodeOf(e, 'dir');
  const o = old.inode;
  return i.mode !== o.mode || i.uid !== o.uid || i.gid !== o.gid || JSON.stringify(i.xattrs ?? {}) !== JSON.stringify(o.xattrs ?? {});
}

function applyEntry(tree: Tree, e: TarEntry, path: string, where: string): void {
  const h = e.header;
  tree.ensureParents(path, where);
  if (h.type === 'link') {
    const target = normalizeTarPath(h.linkname ?? '', where);
    const t = tree.nodes.get(target);
    if (!t) throw new FlattenError(`${where}: hardlink ${path} points to missing ${target}`);
    if (t.type === 'dir') throw new FlattenError(`${where}: hardlink ${path} points to directory ${target}`);
    if (target === path) return;
    // The header's metadata lands on the shared inode, as an applier's chown/chmod after link() does.
    const i = t.inode;
    i.mode = (h.mode ?? i.mode) & 0o7777;
    i.uid = h.uid ?? i.uid;
    i.gid = h.gid ?? i.gid;
    tree.set(path, { ...t });
    return;
  }
  const type = typeOf[h.type ?? 'file'];
  if (!type) throw new FlattenError(`${where}: ${path} has unsupported tar type ${String(h.type)}`);
  const old = tree.nodes.get(path);
  const inode = inodeOf(e, type);
  if (type === 'dir' && old?.type === 'dir') {
    // A directory entry over a directory updates its metadata and keeps its children.
    Object.assign(old.inode, { ...inode, names: old.inode.names });
    return;
  }
  tree.set(path, {
    type,
    inode,
    ...(type === 'symlink' ? { linkname: h.linkname ?? '' } : {}),
    ...(type === 'char' || type === 'block' ? { devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 } : {}),
  });
}

/**
 * Applies one layer: its whiteouts and opaque markers first (they hide lower layers only), then its
 * entries. Returns what the whiteouts removed and how many entries changed something.
 */
function applyLayer(tree: Tree, entries: readonly TarEntry[], where: string): { removed: string[]; changes: number } {
  const removed: string[] = [];
  const additions: { e: TarEntry; path: string }[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const path = normalizeTarPath(e.path, where);
    if (path === '/') continue; // the root's own metadata is the runtime's business
    const base = posix.basename(path);
    const dir = posix.dirname(path);
    if (base === OPAQUE) removed.push(...tree.clearDir(dir));
    else if (base.startsWith(WH)) removed.push(...tree.removeTree(posix.join(dir, base.slice(WH.length))));
    else {
      if (seen.has(path)) throw new FlattenError(`${where}: ${path} appears twice`);
      seen.add(path);
      additions.push({ e, path });
    }
  }
  let changed = removed.length;
  for (const { e, path } of additions) {
    if (changes(tree, e, path)) changed++;
    applyEntry(tree, e, path, where);
  }
  return { removed, changes: changed };
}

function snapshot(tree: Tree): Map<string, FsEntry> {
  const out = new Map<string, FsEntry>();
  for (const p of [...tree.nodes.keys()].sort()) {
    const n = tree.nodes.get(p) as Node;
    const i = n.inode;
    const names = n.type !== 'dir' && i.names.size > 1 ? [...i.names].sort() : undefined;
    out.set(p, {
      type: n.type,
      mode: i.mode,
      uid: i.uid,
      gid: i.gid,
      size: i.size,
      ...(i.sha256 !== undefined ? { sha256: i.sha256 } : {}),
      ...(n.linkname !== undefined ? { linkname: n.linkname } : {}),
      ...(n.devmajor !== undefined ? { devmajor: n.devmajor, devminor: n.devminor ?? 0 } : {}),
      ...(i.xattrs ? { xattrs: { ...i.xattrs } } : {}),
      mtime: i.mtime,
      ...(names ? { hardlinks: names } : {}),
    });
  }
  return out;
}

/** Applies decompressed layer tars in order and returns the resulting filesystem. */
export async function flattenLayers(layers: readonly Buffer[], opts: FlattenOptions & { readonly name?: string } = {}): Promise<Flattened> {
  const tree = new Tree();
  const removedByLayer: string[][] = [];
  const entriesByLayer: number[] = [];
  const changesByLayer: number[] = [];
  for (const [i, layer] of layers.entries()) {
    const where = `${opts.name ?? 'image'} layer ${i}`;
    const entries = await readTar(layer, where, opts.signal);
    const applied = applyLayer(tree, entries, where);
    entriesByLayer.push(entries.length);
    removedByLayer.push(applied.removed);
    changesByLayer.push(applied.changes);
  }
  return { fs: snapshot(tree), removedByLayer, entriesByLayer, changesByLayer };
}

/** Reads an image archive and flattens its layers. */
export async function flattenImageArchive(file: string, opts: FlattenOptions = {}): Promise<{ archive: ImageArchive } & Flattened> {
  const archive = await readImageArchive(file, opts);
  return { archive, ...(await flattenLayers(archive.layers, { ...opts, name: file })) };
}
