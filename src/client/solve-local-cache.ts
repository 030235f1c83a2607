/**
 * `--cache-from type=local` and `--cache-to type=local` through tsbuildd, the client's half (the
 * daemon's: src/control/solve-local-cache.ts). The directories are on this machine, as with buildx:
 * - `serveCacheFiles` answers the daemon's FilesRequest.cache_read from a cache-from's `src` —
 *   `index.json` and `blobs/sha256/<hex>` only, never another path the daemon might name.
 * - `CacheExportReceiver` collects a cache-to export's files in a temp directory beside `dest`
 *   (blobs verified against their names as they arrive) and, once the daemon says `done`, puts it
 *   in place: renamed to `dest` when there was none; else its blobs renamed in and `index.json`
 *   replaced atomically, keeping the entries of other tags (as the embedded export does). A build
 *   that fails or is cancelled leaves `dest` as it was and removes the temp directory.
 */
import type * as Crypto from 'node:crypto';
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TsbuildError } from '../util/errors.js';
import { lazyBuiltin } from '../util/lazy-builtin.js';
import type { CacheExportSpec, CacheImportSpec } from './build-types.js';
import type { tsbuild } from './gen/control.js';

/** Required on first use: grpc-solve.ts imports this module, and most builds move no local cache. */
const nodeCrypto = lazyBuiltin<typeof Crypto>('node:crypto');

type SolveRequest = tsbuild.control.v1.SolveRequest.$Properties;
type ReadCacheFiles = tsbuild.control.v1.ReadCacheFiles.$Properties;
type CacheExportChunk = tsbuild.control.v1.CacheExportChunk.$Properties;

const LAYOUT_PATH = /^(oci-layout|index\.json|blobs\/sha256\/([0-9a-f]{64}))$/;
const REF_NAME = 'org.opencontainers.image.ref.name';
const CHUNK = 1024 * 1024;

function protocol(message: string): TsbuildError {
  return new TsbuildError('SOLVE_PROTOCOL', `Solve: ${message}`);
}

/** Answers a cache_read: each path's chunks (or `not_found`), in order, each ending with `eof`. */
export async function serveCacheFiles(
  write: (m: SolveRequest) => Promise<void>, requestId: number, read: ReadCacheFiles, cacheFrom: readonly CacheImportSpec[], signal: AbortSignal,
): Promise<void> {
  const spec = cacheFrom[read.cacheIndex ?? 0];
  if (spec?.kind !== 'local') throw protocol(`cache_read for cache_from[${read.cacheIndex ?? 0}], which is not a local cache`);
  for (const [fileId, path] of (read.paths ?? []).entries()) {
    if (!LAYOUT_PATH.test(path) || path === 'oci-layout') throw protocol(`cache_read of ${JSON.stringify(path)}: only index.json and blobs/sha256/<hex> are served`);
    const file = join(resolve(spec.src), path);
    const isFile = await fsp.stat(file).then((s) => s.isFile(), () => false);
    if (isFile) {
      for await (const data of createReadStream(file, { highWaterMark: CHUNK, signal })) {
        await write({ fileChunk: { requestId, fileId, data: data as Buffer } });
      }
    }
    await write({ fileChunk: { requestId, fileId, eof: true, notFound: !isFile } });
  }
}

interface Receiving {
  readonly dest: string;
  readonly tmp: string;
  file?: { readonly path: string; readonly out: WriteStream; readonly hash: Crypto.Hash } | undefined;
}

interface IndexDoc { schemaVersion?: number; mediaType?: string; manifests?: { digest?: string; annotations?: Record<string, string> }[] }

async function readIndex(dir: string): Promise<IndexDoc | undefined> {
  const text = await fsp.readFile(join(dir, 'index.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text) as IndexDoc;
    return Array.isArray(doc.manifests) ? doc : undefined;
  } catch {
    return undefined;
  }
}

export class CacheExportReceiver {
  readonly #cacheTo: readonly CacheExportSpec[];
  readonly #open = new Map<number, Receiving>();

  constructor(cacheTo: readonly CacheExportSpec[]) {
    this.#cacheTo = cacheTo;
  }

  async chunk(c: CacheExportChunk): Promise<void> {
    const index = c.cacheIndex ?? 0;
    const r = await this.#receiving(index);
    if (c.done) {
      if (r.file) throw protocol(`cache export ${index}: done before ${r.file.path} ended`);
      this.#open.delete(index);
      try {
        await this.#place(r);
      } finally {
        await fsp.rm(r.tmp, { recursive: true, force: true });
      }
      return;
    }
    const path = c.path ?? '';
    const m = LAYOUT_PATH.exec(path);
    if (!m) throw protocol(`cache export ${index}: refused path ${JSON.stringify(path)}`);
    if (r.file && r.file.path !== path) throw protocol(`cache export ${index}: ${path} before ${r.file.path} ended`);
    if (!r.file) {
      await fsp.mkdir(dirname(join(r.tmp, path)), { recursive: true });
      r.file = { path, out: createWriteStream(join(r.tmp, path), { flags: 'wx' }), hash: nodeCrypto().createHash('sha256') };
    }
    const f = r.file;
    if (c.data?.length) {
      f.hash.update(c.data);
      if (!f.out.write(c.data)) await new Promise<void>((ok) => f.out.once('drain', () => ok()));
    }
    if (c.eof) {
      r.file = undefined;
      await new Promise<void>((ok, fail) => f.out.end((e?: Error | null) => (e ? fail(e) : ok())));
      const got = f.hash.digest('hex');
      if (m[2] !== undefined && got !== m[2]) throw new TsbuildError('BLOB_DIGEST_MISMATCH', `cache export: blob sha256:${m[2]} hashes to sha256:${got}`);
    }
  }

  async #receiving(index: number): Promise<Receiving> {
    const known = this.#open.get(index);
    if (known) return known;
    const spec = this.#cacheTo[index];
    if (spec?.kind !== 'local') throw protocol(`cache export for cache_to[${index}], which is not a local cache`);
    const dest = resolve(spec.dest);
    await fsp.mkdir(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.${basename(dest)}.tsbuild-cache-${process.pid}-${nodeCrypto().randomBytes(4).toString('hex')}`);
    await fsp.mkdir(tmp);
    const r: Receiving = { dest, tmp };
    this.#open.set(index, r);
    return r;
  }

  /** Puts a complete export at its dest (see the header). */
  async #place(r: Receiving): Promise<void> {
    const incoming = await readIndex(r.tmp);
    if (!incoming) throw protocol('cache export without a valid index.json');
    if (!(await fsp.stat(r.dest).then(() => true, () => false))) {
      await fsp.rename(r.tmp, r.dest);
      return;
    }
    await fsp.mkdir(join(r.dest, 'blobs', 'sha256'), { recursive: true });
    for (const name of await fsp.readdir(join(r.tmp, 'blobs', 'sha256')).catch(() => [] as string[])) {
      const to = join(r.dest, 'blobs', 'sha256', name);
      if (!(await fsp.stat(to).then(() => true, () => false))) await fsp.rename(join(r.tmp, 'blobs', 'sha256', name), to);
    }
    await fsp.writeFile(join(r.dest, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const added = incoming.manifests ?? [];
    const tags = new Set(added.flatMap((d) => (d.annotations?.[REF_NAME] !== undefined ? [d.annotations[REF_NAME]] : [])));
    const old = await readIndex(r.dest);
    const kept = (old?.manifests ?? []).filter((d) => {
      const tag = d.annotations?.[REF_NAME];
      return tag === undefined ? !added.some((a) => a.digest === d.digest) : !tags.has(tag);
    });
    const tmpIndex = join(r.dest, `index.json.tmp-${nodeCrypto().randomBytes(6).toString('hex')}`);
    await fsp.writeFile(tmpIndex, JSON.stringify({ ...incoming, manifests: [...kept, ...added] }));
    await fsp.rename(tmpIndex, join(r.dest, 'index.json'));
  }

  /** Removes what an unfinished export left (the build failed or was cancelled). */
  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    for (const r of all) {
      r.file?.out.destroy();
      await fsp.rm(r.tmp, { recursive: true, force: true });
    }
  }
}
