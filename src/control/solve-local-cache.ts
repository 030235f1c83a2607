/**
 * `--cache-from type=local` and `--cache-to type=local` over Solve: the OCI layout directory is on
 * the client (buildx semantics), so the daemon never reads or writes the path it was given. For
 * each such spec the engine gets a directory in the build's scratch instead:
 * - cache-from: before the build the daemon asks the client (FilesRequest.cache_read) for its
 *   `index.json`, then the selected cache manifest, then its config and only the layer blobs its
 *   content store lacks, and lays them out as an OCI layout the engine imports from (blobs it has
 *   are never read there: the engine's fetcher claims them from the store first).
 * - cache-to: the engine writes a fresh layout there; after the build its files go back as
 *   CacheExportChunks, and the client merges them into its `dest` (src/client/solve-local-cache.ts).
 * Results and warnings name the client's directory, not the scratch one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { tsbuild } from '../client/gen/control.js';
import type { BuildRequest, BuildResult, Engine } from '../engine/index.js';
import type { ProgressEvent } from '../progress/types.js';
import { SolveContextErrors } from './solve-context-errors.js';
import type { SolveInbox } from './solve-inbox.js';

type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;
type CacheImportSpec = NonNullable<BuildRequest['cacheFrom']>[number];
type CacheExportSpec = NonNullable<BuildRequest['cacheTo']>[number];

const REF_NAME = 'org.opencontainers.image.ref.name';
const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;
const CHUNK = 1024 * 1024;
/** FilesRequest ids: 1 and 2 are the context's listing and fetch. */
const FIRST_REQUEST_ID = 100;

interface Descriptor { readonly digest: string; readonly annotations?: Record<string, string> }

function blobRel(digest: string): string | undefined {
  const m = DIGEST_RE.exec(digest);
  return m ? `blobs/sha256/${m[1] as string}` : undefined;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Local cache directories of one build: the client's path ↔ the scratch directory the engine uses. */
export class SolveLocalCaches {
  readonly #scratch: string;
  readonly #renames: { readonly scratch: string; readonly client: string }[] = [];
  readonly #exports: { readonly index: number; readonly dir: string }[] = [];
  #nextRequest = FIRST_REQUEST_ID;

  constructor(scratch: string) {
    this.#scratch = scratch;
  }

  /**
   * Fetches what the engine needs of each local cache-from (in order, before the inbox pumps) and
   * points the specs at their scratch copies; points local cache-to specs at scratch directories.
   */
  async prepare(req: BuildRequest, inbox: SolveInbox, post: (m: SolveResponse) => void, engine: Engine, signal: AbortSignal): Promise<BuildRequest> {
    const cacheFrom: CacheImportSpec[] = [];
    for (const [index, spec] of (req.cacheFrom ?? []).entries()) {
      if (spec.kind !== 'local') {
        cacheFrom.push(spec);
        continue;
      }
      const dir = join(this.#scratch, `cache-from-${index}`);
      await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
      await this.#fetchLayout(index, spec, dir, inbox, post, engine, signal);
      this.#renames.push({ scratch: dir, client: spec.src });
      cacheFrom.push({ ...spec, src: dir });
    }
    const cacheTo: CacheExportSpec[] = (req.cacheTo ?? []).map((spec, index) => {
      if (spec.kind !== 'local') return spec;
      const dir = join(this.#scratch, `cache-to-${index}`);
      this.#renames.push({ scratch: dir, client: spec.dest });
      this.#exports.push({ index, dir });
      return { ...spec, dest: dir };
    });
    return { ...req, cacheFrom, cacheTo };
  }

  async #fetchLayout(index: number, spec: Extract<CacheImportSpec, { kind: 'local' }>, dir: string, inbox: SolveInbox, post: (m: SolveResponse) => void, engine: Engine, signal: AbortSignal): Promise<void> {
    const read = (paths: readonly string[]): Promise<boolean[]> => this.#read(index, paths, dir, inbox, post);
    // Whatever is missing or malformed is left out: the engine's import then reports it as for an embedded build.
    if (!(await read(['index.json']))[0]) return;
    const index0 = parseJson(await readFile(join(dir, 'index.json'))) as { manifests?: Descriptor[] } | undefined;
    const manifests = Array.isArray(index0?.manifests) ? index0.manifests : [];
    const pick = spec.digest !== undefined ? manifests.find((m) => m.digest === spec.digest) : manifests.find((m) => m.annotations?.[REF_NAME] === spec.tag);
    const manifestRel = pick ? blobRel(pick.digest) : undefined;
    if (!pick || !manifestRel || !(await read([manifestRel]))[0]) return;
    const manifest = parseJson(await readFile(join(dir, manifestRel))) as { config?: Descriptor; layers?: Descriptor[] } | undefined;
    const wanted: string[] = [];
    const configRel = typeof manifest?.config?.digest === 'string' ? blobRel(manifest.config.digest) : undefined;
    if (configRel) wanted.push(configRel);
    for (const l of Array.isArray(manifest?.layers) ? manifest.layers : []) {
      const rel = typeof l.digest === 'string' ? blobRel(l.digest) : undefined;
      if (rel && !wanted.includes(rel) && !(await engine.services.storage.content.has(l.digest, { signal }))) wanted.push(rel);
    }
    if (wanted.length > 0) await read(wanted);
  }

  /** Asks the client for `paths` of cache-from `index` and writes them under `dir`; which it had. */
  async #read(index: number, paths: readonly string[], dir: string, inbox: SolveInbox, post: (m: SolveResponse) => void): Promise<boolean[]> {
    const id = this.#nextRequest++;
    post({ files: { id, cacheRead: { cacheIndex: index, paths: [...paths] } } });
    const found = paths.map(() => false);
    let at = 0;
    let out: Writable | undefined;
    const close = (w: Writable): Promise<void> => new Promise((resolve, reject) => w.end((e?: Error | null) => (e ? reject(e) : resolve())));
    try {
      while (at < paths.length) {
        const m = await inbox.next();
        const c = m?.fileChunk;
        if (!c || c.requestId !== id || c.fileId !== at) throw SolveContextErrors.protocol('expected file_chunk answers to files.cache_read, in order');
        if (c.notFound) {
          if (out) throw SolveContextErrors.protocol('file_chunk: not_found after data');
        } else {
          out ??= createWriteStream(join(dir, paths[at] as string), { flags: 'wx' });
          if (c.data?.length && !out.write(c.data)) await new Promise<void>((r) => out?.once('drain', () => r()));
          found[at] = true;
        }
        if (c.eof) {
          if (out) await close(out);
          out = undefined;
          at++;
        }
      }
    } finally {
      out?.destroy();
    }
    return found;
  }

  /** Sends each local cache-to export the engine wrote, file by file, then `done`. */
  async sendExports(send: (m: SolveResponse) => Promise<void>, signal: AbortSignal): Promise<void> {
    for (const { index, dir } of this.#exports) {
      // An export that failed (a warning with ignore-error) wrote no index: nothing to send.
      if (!(await stat(join(dir, 'index.json')).then(() => true, () => false))) continue;
      const blobs = await readdir(join(dir, 'blobs', 'sha256')).catch(() => [] as string[]);
      const files = ['oci-layout', ...blobs.filter((b) => /^[0-9a-f]{64}$/.test(b)).map((b) => `blobs/sha256/${b}`), 'index.json'];
      for (const path of files) {
        for await (const data of createReadStream(join(dir, path), { highWaterMark: CHUNK, signal })) {
          await send({ cacheExport: { cacheIndex: index, path, data: data as Buffer } });
        }
        await send({ cacheExport: { cacheIndex: index, path, eof: true } });
      }
      await send({ cacheExport: { cacheIndex: index, done: true } });
    }
  }

  /** `text` with the scratch directories named as the client's. */
  rename(text: string): string {
    let out = text;
    for (const r of this.#renames) out = out.replaceAll(r.scratch, r.client);
    return out;
  }

  /** A progress event naming the client's directories (vertex names, logs). */
  renameEvent(e: ProgressEvent): ProgressEvent {
    if (this.#renames.length === 0) return e;
    if (e.type === 'vertex') return { ...e, name: this.rename(e.name) };
    if (e.type === 'log') return { ...e, data: this.rename(e.data) };
    return e;
  }

  /** The result as the client should see it: its own directories. */
  renameResult(r: BuildResult): BuildResult {
    if (this.#renames.length === 0) return r;
    return {
      ...r,
      warnings: r.warnings.map((w) => ({ ...w, message: this.rename(w.message) })),
      remoteCache: {
        ...r.remoteCache,
        imported: r.remoteCache.imported.map((i) => ({ ...i, name: this.rename(i.name), ...(i.error !== undefined ? { error: this.rename(i.error) } : {}) })),
        exported: r.remoteCache.exported.map((e) => ({ ...e, to: this.rename(e.to), ...(e.error !== undefined ? { error: this.rename(e.error) } : {}) })),
      },
    };
  }
}
