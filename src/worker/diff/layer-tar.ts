/**
 * An overlay upper directory → an OCI layer tar, as a stream of chunks.
 *
 * Order: a depth-first walk with each directory's names sorted by bytes (parents before their
 * children, like Go's filepath.Walk that Docker uses); an opaque directory's `.wh..wh..opq` comes
 * right after the directory, before its children, so an applier that unpacks onto a merged tree
 * clears the old content before adding the new. The first path of a hardlinked inode carries the
 * content, later ones are link entries. Same directory content → same bytes.
 *
 * Copied-up directories: overlayfs copies a lower directory into the upper dir as soon as anything
 * is created in it, even if that is removed again (the executor's mount stubs in /etc). With
 * `lowerDirs`, a non-opaque upper directory whose entry would equal that of the lower directory it
 * shadows is held back, and written only right before the first entry below it that is in the
 * layer (so the parents still come first and extract with their metadata), as BuildKit's overlay
 * differ and containerd's tar writer do. See docs/snapshots.md for why "equal" means equal entries.
 */
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { closeSync, constants, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { throwIfAborted } from '../../util/errors.js';
import { fsPath, toBytePath, utf8Path } from '../snapshot/byte-path.js';
import { LayerError, LayerErrorCode } from './errors.js';
import { LowerLookup } from './lower-lookup.js';
import { reusableEntry, type FileStat, type TarIndexEntry, type TarReuse } from './tar-index.js';
import type { LowerDir } from './lower-lookup.js';
import { END_OF_ARCHIVE, encodeHeader } from './tar-encode.js';
import type { TarEntryType, TarHeader } from './tar-types.js';
import { padding } from './tar-types.js';
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX, isOpaqueDir, isOverlayWhiteout, isOverlayXattr } from './whiteout.js';

export interface LayerTarOptions {
  readonly signal?: AbortSignal;
  /** Clamp mtimes to this (seconds since the epoch), for reproducible layers. */
  readonly sourceDateEpoch?: number;
  /**
   * The parents' `diff/` dirs, nearest first (the overlay lower dirs of this upper dir). Unchanged
   * copied-up directories are left out unless something below them is in the layer. Default: none
   * (a base layer: every directory is new).
   */
  readonly lowerDirs?: readonly string[];
  /**
   * An earlier layer's tar whose file entries may be copied for files that are the same inode at
   * the same path (tar-index.ts); never with sourceDateEpoch.
   */
  readonly reuse?: TarReuse;
  /** Called for each regular file's full entry (not hardlink entries) with its place in the tar. */
  readonly onFileEntry?: (path: string, st: FileStat, offset: number, length: number) => void;
  /**
   * What a walk of this committed layer found for a regular file at a (UTF-8) path: with `reuse`,
   * a file whose entry is copied from the earlier blob is not looked up again (diff-walk.ts).
   */
  readonly known?: (path: string) => FileStat | undefined;
}

/** Paths the walk's UTF-8 keys spell the same as the tar's byte strings. */
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Small entries are gathered into chunks of about this size; big file bodies stream through. Each
 * chunk is one write of the blob: at 64 KiB a 675 MB layer took 10,000 writes (~0.5 s more CPU).
 */
const BATCH_BYTES = 1024 * 1024;
const READ_CHUNK = 1024 * 1024;
/**
 * Metadata calls and reads of files up to this size are synchronous: each takes microseconds,
 * while a thread-pool round trip per call made the walk several times slower (bench/worker). The
 * event loop gets control back after every batch of output.
 */
const SYNC_READ_MAX = 256 * 1024;

class Batch {
  private parts: Buffer[] = [];
  private bytes = 0;
  get size(): number {
    return this.bytes;
  }
  add(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.bytes += b.length;
  }
  get full(): boolean {
    return this.bytes >= BATCH_BYTES;
  }
  take(): Buffer | undefined {
    if (this.bytes === 0) return undefined;
    const out = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}

function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

/** Xattrs worth keeping, sorted by name. Names that are not UTF-8 cannot be queried (napi takes strings). */
function readXattrs(bytePath: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const p = utf8Path(bytePath);
  if (p === undefined) return out;
  for (const name of listAttributesSync(p).sort()) {
    if (isOverlayXattr(name)) continue;
    const value = getAttributeSync(p, name);
    if (value) out.set(name, value);
  }
  return out;
}

function sameXattrs(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (o === undefined || !o.equals(v)) return false;
  }
  return true;
}

function typeOf(st: Stats): TarEntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets: not representable in tar, skipped like Docker does
}

interface Frame {
  readonly rel: string;
  readonly names: string[];
  i: number;
  /** What the lower layers show at this path. */
  readonly lower: LowerLookup;
  /** This directory's entry while it is held back (unchanged, and nothing below it written yet). */
  held: TarHeader | undefined;
}

function sortedNames(bytePath: string): string[] {
  // latin1 names are byte strings; default sort on them is byte order.
  return readdirSync(fsPath(bytePath), { encoding: 'latin1' }).sort();
}

export async function* layerTar(dir: string, opts: LayerTarOptions = {}): AsyncGenerator<Buffer, void, undefined> {
  const at = { emitted: 0 };
  for await (const chunk of entries(dir, opts, at)) {
    at.emitted += chunk.length;
    yield chunk;
  }
}

/** Bytes read from the earlier blob at once, at most (runs of consecutive spliced entries). */
const SPLICE_MAX = 4 * 1024 * 1024;

/** layerTar's body; `at.emitted` counts the bytes already handed out (kept by layerTar). */
async function* entries(dir: string, opts: LayerTarOptions, at: { emitted: number }): AsyncGenerator<Buffer, void, undefined> {
  const root = toBytePath(dir);
  const reuse = opts.sourceDateEpoch === undefined ? opts.reuse : undefined;
  const clamp = opts.sourceDateEpoch;
  const mtimeOf = (st: Stats): number => {
    const t = Math.floor(st.mtimeMs / 1000);
    return clamp !== undefined && t > clamp ? clamp : t;
  };
  const base = (st: Stats, name: string, type: TarEntryType): TarHeader => ({
    name, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0, mtime: mtimeOf(st),
    linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, xattrs: new Map(),
  });
  const opaqueMarker = (st: Stats, dirName: string): TarHeader => ({
    ...base(st, `${dirName}${WHITEOUT_OPAQUE}`, 'file'),
    mode: st.mode & 0o777,
  });

  /** Whether an upper directory's entry says nothing the lower directory's own entry would not. */
  const sameAsLower = (h: TarHeader, lower: LowerDir): boolean => {
    const st = lower.stat;
    return (st.mode & 0o7777) === h.mode && st.uid === h.uid && st.gid === h.gid && mtimeOf(st) === h.mtime
      && sameXattrs(h.xattrs, readXattrs(lower.path));
  };

  const batch = new Batch();
  /** A run of earlier entries not yet read: consecutive in the earlier blob and in this tar. */
  let run: { offset: number; length: number } | undefined;
  const position = (): number => at.emitted + batch.size + (run?.length ?? 0);
  const flushRun = (): void => {
    if (run === undefined || reuse === undefined) return;
    const buf = Buffer.allocUnsafe(run.length);
    let got = 0;
    while (got < run.length) {
      const n = readSync(reuse.fd, buf, got, run.length - got, run.offset + got);
      if (n === 0) throw new LayerError(LayerErrorCode.diffFailed, `the earlier layer blob ${reuse.index.blobDigest} is shorter than its index`);
      got += n;
    }
    run = undefined;
    batch.add(buf);
  };
  const splice = (e: TarIndexEntry): void => {
    if (run !== undefined && run.offset + run.length === e.offset && run.length + e.length <= SPLICE_MAX) {
      run.length += e.length;
      return;
    }
    flushRun();
    run = { offset: e.offset, length: e.length };
  };
  const firstPathOfInode = new Map<string, string>();
  const rootStat = lstatSync(fsPath(root));
  const rootOpaque = isOpaqueDir(root);
  if (rootOpaque) batch.add(encodeHeader(opaqueMarker(rootStat, '')));
  const rootLower = rootOpaque ? LowerLookup.none : LowerLookup.root(opts.lowerDirs ?? []);
  const stack: Frame[] = [{ rel: '', names: sortedNames(root), i: 0, lower: rootLower, held: undefined }];
  // Held-back frames always form the top of the stack: a directory is only held when its parent is
  // held or written. stack[heldFrom..] are held; the root has no entry of its own.
  let heldFrom = 1;
  /** Writes the held-back ancestors of the entry about to be written, outermost first. */
  const release = (): void => {
    for (let k = heldFrom; k < stack.length; k++) {
      const f = stack[k] as Frame;
      if (f.held !== undefined) batch.add(encodeHeader(f.held));
      f.held = undefined;
    }
    heldFrom = stack.length;
  };

  while (stack.length > 0) {
    throwIfAborted(opts.signal);
    const top = stack[stack.length - 1] as Frame;
    const name = top.names[top.i++];
    if (name === undefined) {
      stack.pop();
      if (heldFrom > stack.length) heldFrom = stack.length;
      continue;
    }
    const rel = top.rel === '' ? name : `${top.rel}/${name}`;
    const abs = `${root}/${rel}`;
    // A file the layer's walk already saw needs no lookup when its entry is copied (most of an
    // incremental COPY's layer); anything else is looked up.
    const seen = reuse !== undefined ? opts.known?.(ASCII.test(rel) ? rel : (utf8Path(rel) ?? '')) : undefined;
    const fromWalk = reuse !== undefined && seen !== undefined ? reusableEntry(reuse.index, rel, seen) : undefined;
    let st = fromWalk === undefined ? lstatSync(fsPath(abs)) : undefined;
    const facts: FileStat | undefined = st === undefined ? seen : st.isFile() ? st : undefined;
    const earlier = fromWalk ?? (reuse !== undefined && facts !== undefined ? reusableEntry(reuse.index, rel, facts) : undefined);
    if (earlier !== undefined && facts !== undefined && (facts.nlink <= 1 || !firstPathOfInode.has(`${facts.dev}:${facts.ino}`))) {
      if (heldFrom < stack.length) {
        flushRun();
        release();
      }
      if (facts.nlink > 1) firstPathOfInode.set(`${facts.dev}:${facts.ino}`, rel);
      opts.onFileEntry?.(rel, facts, position(), earlier.length);
      splice(earlier);
      if (run !== undefined && run.length >= BATCH_BYTES) flushRun();
      if (batch.full) yield batch.take() as Buffer;
      continue;
    }
    flushRun();
    st ??= lstatSync(fsPath(abs));

    if (isOverlayWhiteout(st)) {
      release();
      const wh = top.rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${top.rel}/${WHITEOUT_PREFIX}${name}`;
      batch.add(encodeHeader({ ...base(st, wh, 'file'), mode: 0o600 }));
    } else {
      const type = typeOf(st);
      if (type === 'dir') {
        const h: TarHeader = { ...base(st, `${rel}/`, type), xattrs: readXattrs(abs) };
        const opaque = isOpaqueDir(abs);
        // An opaque directory replaces whatever is below it: its children have no lower.
        const lower = opaque ? LowerLookup.none : top.lower.child(name);
        const frame: Frame = { rel, names: sortedNames(abs), i: 0, lower, held: undefined };
        if (!opaque && lower.dir !== undefined && sameAsLower(h, lower.dir)) {
          frame.held = h; // heldFrom already points here when no ancestor is held
          stack.push(frame);
        } else {
          release();
          batch.add(encodeHeader(h));
          if (opaque) batch.add(encodeHeader(opaqueMarker(st, `${rel}/`)));
          stack.push(frame);
          heldFrom = stack.length;
        }
      } else if (type !== undefined) {
        release();
        let h: TarHeader = { ...base(st, rel, type), xattrs: readXattrs(abs) };
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = firstPathOfInode.get(key);
          if (first === undefined) firstPathOfInode.set(key, rel);
          else h = { ...h, type: 'hardlink', linkname: first };
        }
        if (h.type === 'symlink') h = { ...h, linkname: readlinkSync(fsPath(abs), { encoding: 'buffer' }).toString('latin1') };
        if (h.type === 'char' || h.type === 'block') h = { ...h, devmajor: major(st.rdev), devminor: minor(st.rdev) };
        if (h.type === 'file') h = { ...h, size: st.size };
        const start = position();
        batch.add(encodeHeader(h));
        if (h.type === 'file' && h.size > 0 && h.size <= SYNC_READ_MAX) smallFileBody(abs, h, batch);
        else if (h.type === 'file' && h.size > 0) yield* fileBody(abs, h, batch, opts.signal);
        if (h.type === 'file') opts.onFileEntry?.(rel, st, start, position() - start);
      }
    }
    if (batch.full) yield batch.take() as Buffer;
  }
  flushRun();
  batch.add(END_OF_ARCHIVE);
  yield batch.take() as Buffer;
}

function shrank(h: TarHeader): LayerError {
  return new LayerError(LayerErrorCode.diffFailed, `file shrank from ${h.size} bytes while being read`, { entry: h.name });
}

/** A small file's bytes and padding, read in one go. */
function smallFileBody(abs: string, h: TarHeader, batch: Batch): void {
  const fd = openSync(fsPath(abs), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(h.size + padding(h.size));
    let got = 0;
    while (got < h.size) {
      const n = readSync(fd, buf, got, h.size - got, got);
      if (n === 0) throw shrank(h);
      got += n;
    }
    buf.fill(0, h.size);
    batch.add(buf);
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's bytes and padding; exactly `h.size` bytes even if the file changes meanwhile. The next
 * chunk's read is started before a chunk is handed on, so the thread pool reads it while the
 * consumer hashes and writes this one (they took turns before: a 16 MB file of examples/single).
 */
async function* fileBody(abs: string, h: TarHeader, batch: Batch, signal: AbortSignal | undefined): AsyncGenerator<Buffer, void, undefined> {
  const fh = await open(fsPath(abs), constants.O_RDONLY | constants.O_NOFOLLOW);
  const readAt = (position: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(Math.min(h.size - position, READ_CHUNK));
    const r = fh.read(buf, 0, buf.length, position).then(({ bytesRead }) => (bytesRead === buf.length ? buf : buf.subarray(0, bytesRead)));
    // Awaited below unless the tar is abandoned first; close() waits for it either way.
    r.catch(() => undefined);
    return r;
  };
  try {
    let left = h.size;
    let next = readAt(0);
    while (left > 0) {
      throwIfAborted(signal);
      const chunk = await next;
      if (chunk.length === 0) throw shrank(h);
      left -= chunk.length;
      if (left > 0) next = readAt(h.size - left);
      if (chunk.length >= BATCH_BYTES) {
        const pending = batch.take();
        if (pending) yield pending;
        yield chunk;
      } else {
        batch.add(chunk);
        if (batch.full) yield batch.take() as Buffer;
      }
    }
    batch.add(Buffer.alloc(padding(h.size)));
  } finally {
    await fh.close();
  }
}
