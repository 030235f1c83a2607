/**
 * Unpacking a layer tar into an empty overlay upper directory. Hostile input is expected: every
 * path is reduced to components inside the root, every parent directory is checked to be a real
 * directory (never a symlink) before anything is created in it, existing names are unlinked
 * rather than written through, and hardlinks may only point at entries inside the root.
 *
 * File system calls are synchronous: each takes microseconds, and a thread-pool round trip per
 * call made small-file layers several times slower (bench/worker). The event loop regains control
 * whenever the next chunk of the layer is awaited.
 */
import { setAttributeSync } from '@napi-rs/xattr';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync,
  mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { assertNever, isTsbuildError, throwIfAborted } from '../../util/errors.js';
import { fsPath, toBytePath, utf8Path } from '../snapshot/byte-path.js';
import { decompressLayer } from './decompress.js';
import { LayerError, LayerErrorCode } from './errors.js';
import { DEFAULT_LAYER_LIMITS, limitExceeded } from './layer-limits.js';
import type { LayerLimits } from './layer-limits.js';
import { entryComponents } from './safe-path.js';
import { readTar } from './tar-reader.js';
import type { TarEntry } from './tar-reader.js';
import type { TarHeader } from './tar-types.js';
import { AUFS_LINK_DIR, OPAQUE_XATTR, isOverlayXattr, makeSpecialNode, whiteoutRole } from './whiteout.js';

export interface ExtractOptions {
  /** The layer: uncompressed or gzip tar bytes. */
  readonly source: AsyncIterable<Uint8Array>;
  /** An empty directory (a fresh snapshot's `diff/`). */
  readonly dir: string;
  /**
   * No device nodes (other than whiteouts), no chown; set-id bits only where this process is the
   * owner (or group) the entry names.
   */
  readonly unprivileged: boolean;
  /** Default DEFAULT_LAYER_LIMITS. */
  readonly limits?: LayerLimits;
  readonly signal?: AbortSignal;
}

export interface ExtractResult {
  /** sha256 of the uncompressed tar, `sha256:<hex>`. */
  readonly diffId: string;
  readonly uncompressedSize: number;
  readonly entries: number;
}

type Where = { readonly entry: string; readonly offset: number };

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? (e as NodeJS.ErrnoException).code : undefined;
}

/** Counts and hashes the uncompressed bytes as they pass; stops a decompression bomb at the limit. */
async function* measured(src: AsyncIterable<Buffer>, sink: { bytes: number; hash: ReturnType<typeof createHash> }, limits: LayerLimits): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    sink.hash.update(chunk);
    sink.bytes += chunk.length;
    if (sink.bytes > limits.maxBytes) throw limitExceeded(limits, 'maxBytes');
    yield chunk;
  }
}

export async function extractLayer(opts: ExtractOptions): Promise<ExtractResult> {
  const limits = opts.limits ?? DEFAULT_LAYER_LIMITS;
  const sink = { bytes: 0, hash: createHash('sha256') };
  const x = new Extractor(opts, limits);
  let entries = 0;
  for await (const entry of readTar(measured(decompressLayer(opts.source), sink, limits), opts.signal ? { signal: opts.signal } : {})) {
    throwIfAborted(opts.signal);
    if (++entries > limits.maxEntries) throw limitExceeded(limits, 'maxEntries');
    await x.apply(entry);
  }
  x.finish();
  return { diffId: `sha256:${sink.hash.digest('hex')}`, uncompressedSize: sink.bytes, entries };
}

class Extractor {
  /** The root as a byte string. */
  private readonly root: string;
  private readonly scratch: string;
  /** Relative paths known to be real directories we may create things in. */
  private readonly dirs = new Set<string>(['']);
  /**
   * Directory modes and mtimes are set last: creating children would change the mtime again, and
   * a read-only mode would stop an unprivileged apply from creating them. By path, in the order of
   * each path's last entry: of duplicate entries the last one wins, as in a plain tar extraction.
   */
  private readonly dirMeta = new Map<string, { readonly mode: number; readonly mtime: number }>();
  /** Whether the root's AUFS link dir was made (it is removed once the layer is applied). */
  private aufsLinks = false;
  private readonly euid = process.geteuid?.() ?? 0;
  private readonly egid = process.getegid?.() ?? 0;

  constructor(private readonly opts: ExtractOptions, private readonly limits: LayerLimits) {
    this.root = toBytePath(opts.dir);
    this.scratch = opts.dir;
  }

  private abs(rel: string): Buffer {
    return fsPath(rel === '' ? this.root : `${this.root}/${rel}`);
  }

  async apply(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const where: Where = { entry: h.name, offset: entry.offset };
    const parts = entryComponents(h.name, { ...where, field: 'name' }, this.limits);
    // The root entry ("./"): the snapshot's root keeps its own metadata, as with Docker.
    if (parts.length === 0) return;
    for (const [name, value] of h.xattrs) {
      if (value.length > this.limits.maxXattrBytes) throw limitExceeded(this.limits, 'maxXattrBytes', where, `xattr ${name}`);
    }
    const base = parts[parts.length - 1] as string;
    const parentParts = parts.slice(0, -1);
    const role = whiteoutRole(parts, h.type);
    try {
      switch (role.kind) {
        case 'invalid':
          throw new LayerError(LayerErrorCode.unsafe, role.reason, where);
        case 'aufs-meta':
          return;
        case 'opaque':
          this.opaque(parentParts, where);
          return;
        case 'whiteout':
          await this.whiteout(h, parentParts, role.name, where);
          return;
        case 'aufs-link':
          this.aufsLinks = true;
          break;
        case 'plain':
          break;
        default:
          assertNever(role, 'whiteout role');
      }
      const parent = this.ensureDir(parentParts, where);
      const rel = parent === '' ? base : `${parent}/${base}`;
      this.clear(rel, h.type === 'dir');
      await this.create(rel, entry, where);
    } catch (e) {
      if (isTsbuildError(e)) throw e;
      throw new LayerError(LayerErrorCode.applyFailed, (e as Error).message, { ...where, cause: e });
    }
  }

  finish(): void {
    // Hardlinks into AUFS' link dir have been made; its own names are not part of the image.
    if (this.aufsLinks) rmSync(this.abs(AUFS_LINK_DIR), { recursive: true, force: true });
    for (const [rel, { mode, mtime }] of [...this.dirMeta].reverse()) {
      // A later entry may have replaced the directory (chmod would follow a symlink there).
      const st = lstatOptional(this.abs(rel));
      if (!st?.isDirectory()) continue;
      chmodSync(this.abs(rel), mode);
      lutimesSync(this.abs(rel), mtime, mtime);
    }
  }

  /**
   * Makes sure `parts` is a chain of real directories under the root, creating missing ones. A
   * symlink or a non-directory anywhere in the chain rejects the entry: writing through it could
   * land outside the snapshot.
   */
  private ensureDir(parts: readonly string[], where: Where): string {
    let rel = '';
    for (const c of parts) {
      rel = rel === '' ? c : `${rel}/${c}`;
      if (this.dirs.has(rel)) continue;
      const st = lstatOptional(this.abs(rel));
      if (st === undefined) {
        mkdirSync(this.abs(rel), { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw new LayerError(LayerErrorCode.unsafe, `path goes through the symlink ${JSON.stringify(rel)}; refusing to write through it`, where);
      } else if (!st.isDirectory()) {
        throw new LayerError(LayerErrorCode.unsafe, `path goes through ${JSON.stringify(rel)}, which is not a directory`, where);
      }
      this.dirs.add(rel);
    }
    return rel;
  }

  /** Removes whatever is at `rel`, except a directory that a directory entry will update. */
  private clear(rel: string, keepDir: boolean): void {
    const st = lstatOptional(this.abs(rel));
    if (st === undefined) return;
    if (st.isDirectory()) {
      if (keepDir) return;
      rmSync(this.abs(rel), { recursive: true, force: true });
      for (const d of [...this.dirs]) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
      for (const d of [...this.dirMeta.keys()]) if (d === rel || d.startsWith(`${rel}/`)) this.dirMeta.delete(d);
      return;
    }
    rmSync(this.abs(rel), { force: true });
  }

  private opaque(parentParts: readonly string[], where: Where): void {
    const parent = this.ensureDir(parentParts, where);
    const p = utf8Path(toBytePathJoin(this.root, parent));
    if (p === undefined) throw new LayerError(LayerErrorCode.unsupported, 'opaque directory whose name is not UTF-8', where);
    setAttributeSync(p, OPAQUE_XATTR, 'y');
  }

  private async whiteout(h: TarHeader, parentParts: readonly string[], name: string, where: Where): Promise<void> {
    const parent = this.ensureDir(parentParts, where);
    const rel = parent === '' ? name : `${parent}/${name}`;
    this.clear(rel, false);
    await makeSpecialNode(this.scratch, toBytePathJoin(this.root, rel), { kind: 'whiteout' }, 0);
    this.ownAndTime(rel, h, { isLink: true });
  }

  private async create(rel: string, entry: TarEntry, where: Where): Promise<void> {
    const h = entry.header;
    const abs = this.abs(rel);
    switch (h.type) {
      case 'file': {
        const fd = openSync(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of entry.body()) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
          if (!this.opts.unprivileged) fchownSync(fd, h.uid, h.gid);
          // After chown: chown clears setuid/setgid bits.
          fchmodSync(fd, this.mode(h));
          this.setXattrs(rel, h, where);
          futimesSync(fd, h.mtime, h.mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case 'dir': {
        try {
          mkdirSync(abs, { mode: 0o700 });
        } catch (e) {
          if (errnoCode(e) !== 'EEXIST') throw e;
        }
        this.dirs.add(rel);
        if (!this.opts.unprivileged) chownSync(abs, h.uid, h.gid);
        this.setXattrs(rel, h, where);
        this.dirMeta.delete(rel);
        this.dirMeta.set(rel, { mode: this.mode(h), mtime: h.mtime });
        return;
      }
      case 'symlink':
        symlinkSync(fsPath(h.linkname), abs);
        this.setXattrs(rel, h, where);
        this.ownAndTime(rel, h, { isLink: true });
        return;
      case 'hardlink': {
        const target = this.hardlinkTarget(h, where);
        linkSync(this.abs(target), abs);
        return;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        if (h.type !== 'fifo' && this.opts.unprivileged) {
          throw new LayerError(LayerErrorCode.unsafe, `${h.type === 'char' ? 'character' : 'block'} device nodes are not allowed in an unprivileged apply`, where);
        }
        const node = h.type === 'fifo' ? { kind: 'fifo' as const } : { kind: h.type, major: h.devmajor, minor: h.devminor };
        await makeSpecialNode(this.scratch, toBytePathJoin(this.root, rel), node, this.mode(h));
        this.setXattrs(rel, h, where);
        this.ownAndTime(rel, h, { isLink: false });
        if (!this.opts.unprivileged) chmodSync(abs, h.mode);
        return;
      }
      default:
        assertNever(h.type, 'tar entry type');
    }
  }

  /**
   * The entry's mode as applied. Privileged, exactly the entry's (chmod follows chown, which would
   * clear set-id bits). Without chown the owner is this process, so setuid (setgid) is kept only
   * where this process is the user (group) the entry names: a layer must not make a set-id file
   * that runs as someone it did not name.
   */
  private mode(h: TarHeader): number {
    if (!this.opts.unprivileged) return h.mode;
    let mode = h.mode;
    if (h.uid !== this.euid) mode &= ~0o4000;
    if (h.gid !== this.egid) mode &= ~0o2000;
    return mode;
  }

  /** A hardlink may only point at a non-directory this layer already created. */
  private hardlinkTarget(h: TarHeader, where: Where): string {
    const parts = entryComponents(h.linkname, { ...where, field: 'hardlink target' }, this.limits);
    if (parts.length === 0) throw new LayerError(LayerErrorCode.unsafe, 'hardlink to the layer root', where);
    let rel = '';
    for (const c of parts.slice(0, -1)) {
      rel = rel === '' ? c : `${rel}/${c}`;
      // Not from the cache: a directory may have been replaced by a symlink since.
      const st = lstatOptional(this.abs(rel));
      if (!st?.isDirectory()) {
        throw new LayerError(LayerErrorCode.unsafe, `hardlink target ${JSON.stringify(h.linkname)} is not inside this layer`, where);
      }
    }
    const target = parts.join('/');
    const st = lstatOptional(this.abs(target));
    if (st === undefined) throw new LayerError(LayerErrorCode.unsafe, `hardlink target ${JSON.stringify(h.linkname)} is not an earlier entry of this layer`, where);
    if (st.isDirectory()) throw new LayerError(LayerErrorCode.unsafe, `hardlink to the directory ${JSON.stringify(h.linkname)}`, where);
    return target;
  }

  private ownAndTime(rel: string, h: TarHeader, how: { readonly isLink: boolean }): void {
    const abs = this.abs(rel);
    if (!this.opts.unprivileged) lchownSync(abs, h.uid, h.gid);
    if (how.isLink) lutimesSync(abs, h.mtime, h.mtime);
    else utimesSync(abs, h.mtime, h.mtime);
  }

  private setXattrs(rel: string, h: TarHeader, where: Where): void {
    if (h.xattrs.size === 0) return;
    const p = utf8Path(toBytePathJoin(this.root, rel));
    if (p === undefined) return; // napi takes UTF-8 strings only; see docs/snapshots.md
    for (const [name, value] of h.xattrs) {
      if (isOverlayXattr(name)) continue;
      try {
        setAttributeSync(p, name, value);
      } catch (e) {
        // Without privileges trusted.* and security.capability cannot be set; that is expected.
        if (this.opts.unprivileged && (name.startsWith('trusted.') || name.startsWith('security.'))) continue;
        throw new LayerError(LayerErrorCode.applyFailed, `cannot set xattr ${name}: ${(e as Error).message}`, where);
      }
    }
  }
}

/** lstat, or undefined when nothing is there. */
function lstatOptional(p: Buffer): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

function toBytePathJoin(root: string, rel: string): string {
  return rel === '' ? root : `${root}/${rel}`;
}
