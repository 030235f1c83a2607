/**
 * The client's side of context sync (Solve with CONTEXT_TRANSFER_SYNC): the ignore file that
 * applies (`<Dockerfile>.dockerignore` beside the Dockerfile, else the context's `.dockerignore`,
 * as the engine picks it), the listing of what survives it — lstat facts and an `xxh64:` digest of
 * each regular file's content — and the key naming the daemon's copy of this context. The walk is
 * the engine's own (src/util/pattern-matcher), so the daemon receives exactly the files the
 * engine would read. Digests of files unchanged since the last build come from the client's
 * digest cache (context-digest-cache.ts) instead of the files' bytes.
 */
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { createReadStream, promises as fsp, readFileSync, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import xxhash from 'xxhash-wasm';
import { walkContext } from '../util/pattern-matcher/index.js';
import { sha256Hex } from '../util/sha256.js';
import { listingExcludes } from './context-excludes.js';
import type { tsbuild } from './gen/control.js';
import type { ContextDigestCache } from './context-digest-cache.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

/**
 * The ignore file's bytes, when one applies. Synchronous reads: an ignore file is small, and each
 * asynchronous read is four thread-pool round trips (open, stat, read, close) before `start` can go.
 */
export function readDockerignore(contextDir: string, dockerfilePath: string | undefined): Buffer | undefined {
  const candidates = [...(dockerfilePath !== undefined ? [`${resolve(dockerfilePath)}.dockerignore`] : []), join(resolve(contextDir), '.dockerignore')];
  for (const file of candidates) {
    try {
      return readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return undefined;
}

/**
 * Names the daemon's copy of this context: this host and the context's real path (or the request's
 * history key). The path as realpath(3) gives it (one system call, as node:fs/promises' realpath).
 */
export function contextKeyOf(contextDir: string, historyKey?: string): string {
  // A request that names itself for the history (a context from standard input, unpacked to a new
  // directory each time) keeps one key across builds: its snapshot on the daemon and its history.
  const id = historyKey !== undefined ? `history:${historyKey}` : realpathSync.native(contextDir);
  // Plain-JS SHA-256: every build through a daemon computes this key, and node:crypto's loading
  // would be most of what the hash costs (util/sha256.ts).
  return sha256Hex(`${hostname()}\0${id}`);
}

export interface ListedEntry {
  readonly stat: FileStat;
  /** Absolute path on the client. */
  readonly absPath: string;
}

/** Files up to this size are read and hashed in one go (one read, one-shot hash). */
const ONE_SHOT = 1024 * 1024;

async function xxh64File(h: Awaited<ReturnType<typeof xxhash>>, path: string, size: number, signal: AbortSignal): Promise<string> {
  let value: bigint;
  if (size <= ONE_SHOT) {
    // Synchronous: a small file's read costs microseconds, a stream of it (open, read, close as
    // thread-pool round trips plus stream machinery) ~100x more; a cold 100,000-file context
    // hashed in minutes that way.
    value = h.h64Raw(readFileSync(path));
  } else {
    const hasher = h.create64();
    for await (const chunk of createReadStream(path, { signal })) hasher.update(chunk as Uint8Array);
    value = hasher.digest();
  }
  return `xxh64:${value.toString(16).padStart(16, '0')}`;
}

/** The content digest of a regular file: remembered in `digests` while unchanged, else hashed from its bytes. */
export type DigestOf = (path: string, absPath: string, st: Stats) => Promise<string>;

/** A `digestOf` backed by the client's digest cache; the xxhash WebAssembly module is loaded on first need. */
export function fileDigester(signal: AbortSignal, digests?: ContextDigestCache): DigestOf {
  let h: Awaited<ReturnType<typeof xxhash>> | undefined;
  return async (path, absPath, st) => {
    const known = digests?.get(path, st);
    if (known !== undefined) return known;
    h ??= await xxhash();
    const d = await xxh64File(h, absPath, st.size, signal);
    digests?.set(path, st, d);
    return d;
  };
}

/** One listing entry from its lstat, as the walk and the journal's delta (solve-context-delta.ts) both send it. */
export async function fileStatOf(fileId: number, path: string, absPath: string, stat: Stats, digestOf: DigestOf): Promise<FileStat> {
  return {
    fileId,
    path,
    mode: stat.mode,
    uid: stat.uid,
    gid: stat.gid,
    size: stat.isFile() ? stat.size : 0,
    mtimeNs: Math.floor(stat.mtimeMs * 1e6),
    linkTarget: stat.isSymbolicLink() ? await fsp.readlink(absPath) : '',
    contentDigest: stat.isFile() ? await digestOf(path, absPath, stat) : '',
    devMajor: stat.isBlockDevice() || stat.isCharacterDevice() ? Math.floor(stat.rdev / 256) : 0,
    devMinor: stat.isBlockDevice() || stat.isCharacterDevice() ? stat.rdev % 256 : 0,
  };
}

/**
 * The context's entries (directories first, then what is beneath them), numbered from 1. Patterns
 * the matcher rejects are left to the engine, which reports them with their file and line: the
 * walk then sends everything.
 */
export async function* listContext(contextDir: string, ignore: Buffer | undefined, signal: AbortSignal, digests?: ContextDigestCache): AsyncGenerator<ListedEntry> {
  const digestOf = fileDigester(signal, digests);
  const excludes = listingExcludes(ignore);
  let id = 0;
  for await (const { path, stat } of walkContext(contextDir, { excludes, signal })) {
    const absPath = join(contextDir, path);
    yield { stat: await fileStatOf(++id, path, absPath, stat, digestOf), absPath };
  }
}
