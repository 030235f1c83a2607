/**
 * Reads an image archive (`docker save` output or an OCI image layout tar) in one streaming pass:
 * every file that can be a blob goes straight into the content store while it is hashed (never
 * held in memory), `blobs/sha256/<hex>` and legacy `<hex>.json` files are verified against the
 * digest their name claims, and the small index documents (`manifest.json`, `index.json`,
 * `oci-layout`, `repositories`) are kept as bytes. What the documents mean is decided afterwards
 * (load.ts), because tar order puts them last. Nothing is extracted to disk; an entry whose
 * name climbs out of the archive with `..` is refused (as docker load refuses it), and links
 * pointing outside the archive are recorded as such, never followed.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import type { CacheStorage } from '../../cache/cache-storage.js';
import { CancelledError, TsbuildError, UserInputError, errorMessage, isTsbuildError } from '../../util/errors.js';

/** The archive-level documents, buffered; anything larger than this is refused. */
const DOCUMENTS = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** Per-layer v1 metadata of Docker's legacy format: nothing in it is needed. */
const LEGACY_V1_META = /^[0-9a-f]{64}\/(?:json|VERSION)$/;
const BLOB_PATH = /^blobs\/([^/]+)\/([^/]+)$/;
const LEGACY_CONFIG = /^([0-9a-f]{64})\.json$/;

export interface StoredFile {
  readonly digest: string;
  readonly size: number;
}

/** A symlink or hardlink entry of the archive. */
export interface ArchiveLink {
  readonly kind: 'symlink' | 'hardlink';
  /** The target as the entry spells it. */
  readonly linkname: string;
  /** The archive path it points at; undefined when that is outside the archive (absolute, or above its root). */
  readonly target: string | undefined;
}

export interface ArchiveContents {
  /** The archive-level documents by path. */
  readonly documents: ReadonlyMap<string, Buffer>;
  /** Files written to (or already in) the content store, by archive path. */
  readonly files: ReadonlyMap<string, StoredFile>;
  /** Symlink and hardlink entries by archive path. */
  readonly links: ReadonlyMap<string, ArchiveLink>;
  /** Blobs this read added to the content store (absent before): what a failed load removes. */
  readonly created: ReadonlySet<string>;
  /** Number of tar entries. */
  readonly entries: number;
}

export interface ReadArchiveOptions {
  readonly signal: AbortSignal;
  /** The archive as the user named it (a path, or "stdin"), for error messages. */
  readonly label: string;
}

/** `./a//b` → `a/b`: tar writers differ in how they spell the same path. */
export function archivePath(name: string): string {
  const p = posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

/** Whether a normalized archive path climbs above the archive's root. */
export function climbsOut(path: string): boolean {
  return path === '..' || path.startsWith('../');
}

/** Where a link entry points, inside the archive or (undefined) outside it. */
function linkTarget(kind: ArchiveLink['kind'], path: string, linkname: string): string | undefined {
  // A symlink is relative to its directory, a hardlink to the archive root; an absolute symlink
  // names a file of whatever machine reads the archive.
  if (kind === 'symlink' && linkname.startsWith('/')) return undefined;
  const target = archivePath(kind === 'symlink' ? posix.join(posix.dirname(path), linkname) : linkname);
  return climbsOut(target) ? undefined : target;
}

class Sha256Counter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/**
 * An entry's bytes as Buffers. Each wait races the abort signal: a pipeline that is aborted while
 * its source waits for bytes that never come (a stalled stdin) would otherwise never finish.
 */
async function* chunks(entry: AsyncIterable<unknown>, signal: AbortSignal): AsyncGenerator<Buffer> {
  const it = entry[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelledBy(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      const c = r.value as unknown;
      yield Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

async function drain(entry: AsyncIterable<unknown>, signal: AbortSignal): Promise<void> {
  for await (const _ of chunks(entry, signal)) {
    // discard
  }
}

async function bufferDocument(entry: AsyncIterable<unknown>, path: string, size: number, label: string, signal: AbortSignal): Promise<Buffer> {
  if (size > MAX_DOCUMENT_BYTES) throw new UserInputError('IMAGE_LOAD_INVALID', `${label}: ${path} is ${size} bytes, too large for an archive index document`);
  const parts: Buffer[] = [];
  for await (const c of chunks(entry, signal)) parts.push(c);
  return Buffer.concat(parts);
}

/** Maps tar-stream's parse errors to one clear line (naming the entry being read, when known). */
function archiveError(e: unknown, label: string, path?: string): TsbuildError {
  if (isTsbuildError(e)) return e;
  const msg = errorMessage(e);
  const inEntry = path !== undefined ? ` (in ${path})` : '';
  if (/invalid tar header/i.test(msg)) return new UserInputError('IMAGE_LOAD_NOT_TAR', `${label}: not a tar archive (an image archive from docker save or an OCI layout tar is expected)`, { cause: e });
  if (/unexpected end of data/i.test(msg)) return new UserInputError('IMAGE_LOAD_TRUNCATED', `${label}: the archive is truncated${inEntry}`, { cause: e });
  return new TsbuildError('IMAGE_LOAD_READ', `${label}: cannot read the archive${inEntry}: ${msg}`, { cause: e });
}

/**
 * Streams the archive into the content store. On failure the error names the archive and the
 * entry; the blobs written so far are reachable from nothing and collected when the operation ends.
 */
export async function readImageArchive(storage: CacheStorage, input: Readable, opts: ReadArchiveOptions): Promise<ArchiveContents> {
  const { signal, label } = opts;
  const documents = new Map<string, Buffer>();
  const files = new Map<string, StoredFile>();
  const links = new Map<string, ArchiveLink>();
  const created = new Set<string>();
  let entries = 0;

  /** Writes one entry into the content store; `expected` when its name claims a digest. */
  const store = async (entry: AsyncIterable<unknown>, path: string, size: number, expected: string | undefined): Promise<StoredFile> => {
    if (expected !== undefined && (await storage.content.claim(expected, { signal }))) {
      // Already stored (by an earlier load or build): the archive's copy is not needed.
      await drain(entry, signal);
      return { digest: expected, size };
    }
    const counter = new Sha256Counter();
    const writer = storage.content.writer({ signal, expectedSize: size, ...(expected !== undefined ? { expected } : {}) });
    try {
      await pipeline(chunks(entry, signal), counter, writer, { signal });
      const digest = `sha256:${counter.hash.digest('hex')}`;
      if (expected !== undefined && digest !== expected) {
        throw new UserInputError('IMAGE_LOAD_DIGEST_MISMATCH', `${label}: ${path}: content does not match its digest (it hashes to ${digest})`);
      }
      if (await storage.content.claim(digest, { signal })) {
        await writer.abort();
      } else {
        await writer.commit();
        created.add(digest);
      }
      return { digest, size: counter.bytes };
    } catch (e) {
      if (!writer.closed) await writer.abort();
      throw e;
    }
  };

  const extract = tarStream.extract();
  const onInputError = (e: Error): void => {
    extract.destroy(e);
  };
  input.on('error', onInputError);
  const onAbort = (): void => {
    extract.destroy(cancelledBy(signal));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) throw cancelledBy(signal);
    input.pipe(extract as unknown as NodeJS.WritableStream);
    for await (const entry of extract) {
      entries++;
      const h = entry.header;
      const path = archivePath(h.name);
      try {
        if (climbsOut(path)) {
          throw new UserInputError('IMAGE_LOAD_UNSAFE_PATH', `${label}: entry ${JSON.stringify(h.name)} climbs out of the archive with ".."`);
        }
        switch (h.type) {
          case 'file':
          case 'contiguous-file': {
            const size = h.size ?? 0;
            if (DOCUMENTS.has(path)) {
              documents.set(path, await bufferDocument(entry, path, size, label, signal));
              break;
            }
            if (LEGACY_V1_META.test(path)) {
              await drain(entry, signal);
              break;
            }
            const blob = BLOB_PATH.exec(path);
            const legacyConfig = LEGACY_CONFIG.exec(path);
            let expected: string | undefined;
            if (blob) {
              if (blob[1] !== 'sha256' || !/^[0-9a-f]{64}$/.test(blob[2] ?? '')) {
                throw new UserInputError('IMAGE_LOAD_INVALID', `${label}: ${path}: unsupported blob name (only sha256 digests are supported)`);
              }
              expected = `sha256:${blob[2] as string}`;
            } else if (legacyConfig) {
              expected = `sha256:${legacyConfig[1] as string}`;
            }
            files.set(path, await store(entry, path, size, expected));
            break;
          }
          case 'symlink':
          case 'link': {
            const kind = h.type === 'link' ? 'hardlink' : 'symlink';
            const linkname = h.linkname ?? '';
            links.set(path, { kind, linkname, target: linkTarget(kind, path, linkname) });
            await drain(entry, signal);
            break;
          }
          default:
            // Directories and anything else carry nothing an image needs.
            await drain(entry, signal);
        }
      } catch (e) {
        throw archiveError(e, label, path);
      }
    }
    if (signal.aborted) throw cancelledBy(signal);
    return { documents, files, links, created, entries };
  } catch (e) {
    // The blobs written so far are reachable from nothing: the operation's end collects them.
    if (signal.aborted) throw cancelledBy(signal);
    throw archiveError(e, label);
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.off('error', onInputError);
    input.unpipe(extract as unknown as NodeJS.WritableStream);
    input.destroy();
  }
}

/** The abort reason as a CancelledError (the CLI's reason already is one: do not wrap it twice). */
export function cancelledBy(signal: AbortSignal): CancelledError {
  return signal.reason instanceof CancelledError ? signal.reason : new CancelledError(signal.reason);
}
