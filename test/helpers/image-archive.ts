/**
 * Reads image archives for tests: a `docker save` tar or an OCI image layout tar, down to the image
 * config and the decompressed layer tars, verifying blob digests and diff_ids on the way. The
 * flattener (fs-flatten.ts) applies the layers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { ImageConfig } from '../../src/oci/types.js';

export interface ImageArchive {
  readonly format: 'docker-save' | 'oci-layout';
  readonly config: ImageConfig;
  /** The layer tars, in order, decompressed. */
  readonly layers: readonly Buffer[];
}

/** Options of the archive reader and the flattener. */
export interface FlattenOptions {
  readonly signal?: AbortSignal;
}

/** A malformed archive or layer; the message names what and where. */
export class FlattenError extends Error {
  readonly code = 'FLATTEN_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'FlattenError';
  }
}

// ---------------------------------------------------------------------------------------------
// Reading tars

/** One tar entry with its content read. */
export interface TarEntry {
  readonly path: string;
  readonly header: tar.Header;
  readonly pax: Readonly<Record<string, string>>;
  readonly data: Buffer;
}

/** `./a/b/`, `a/b`, `/a/b` → `/a/b`; the root is `/`. Rejects `..` escapes. */
export function normalizeTarPath(name: string, where: string): string {
  if (name.split('/').includes('..')) throw new FlattenError(`${where}: entry ${JSON.stringify(name)} escapes the root`);
  return posix.join('/', name).replace(/\/+$/, '') || '/';
}

/** Reads a whole tar in memory. */
export async function readTar(buf: Buffer, where: string, signal: AbortSignal | undefined): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const extract = tar.extract();
  Readable.from([buf]).pipe(extract);
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const pax = (entry.header.pax ?? {}) as Record<string, string>;
      out.push({ path: entry.header.name, header: entry.header, pax, data: Buffer.concat(chunks) });
    }
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new FlattenError(`${where}: not a readable tar: ${(e as Error).message}`);
  }
  return out;
}

function decompress(buf: Buffer, where: string): Buffer {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return gunzipSync(buf);
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x28b52ffd) throw new FlattenError(`${where}: zstd layers are not supported by the flattener`);
  return buf;
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function parseJson<T>(buf: Buffer | undefined, where: string): T {
  if (!buf) throw new FlattenError(`${where}: missing`);
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw new FlattenError(`${where}: not JSON: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Image archives

interface DockerSaveManifest {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface OciDescriptorLike {
  mediaType?: string;
  digest: string;
  annotations?: Record<string, string>;
}

function blob(files: ReadonlyMap<string, Buffer>, digest: string, where: string): Buffer {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new FlattenError(`${where}: unsupported digest ${digest}`);
  const b = files.get(`blobs/sha256/${m[1] as string}`);
  if (!b) throw new FlattenError(`${where}: blob ${digest} is missing from the layout`);
  if (sha256(b) !== m[1]) throw new FlattenError(`${where}: blob ${digest} does not match its digest`);
  return b;
}

function fromOciLayout(files: ReadonlyMap<string, Buffer>, file: string): { config: ImageConfig; layers: Buffer[] } {
  let desc: OciDescriptorLike | undefined;
  let doc = parseJson<{ manifests?: OciDescriptorLike[]; mediaType?: string }>(files.get('index.json'), `${file}: index.json`);
  // Descend through indexes to the one image manifest (the archive must hold exactly one image).
  for (let depth = 0; depth < 4 && Array.isArray(doc.manifests); depth++) {
    const ms = doc.manifests.filter((m) => !m.mediaType?.includes('attestation') && m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
    if (ms.length !== 1) throw new FlattenError(`${file}: expected one image in the layout, found ${ms.length}`);
    desc = ms[0] as OciDescriptorLike;
    doc = parseJson(blob(files, desc.digest, file), `${file}: ${desc.digest}`);
  }
  const manifest = doc as { config?: OciDescriptorLike; layers?: OciDescriptorLike[] };
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new FlattenError(`${file}: ${desc?.digest ?? 'index.json'} is not an image manifest`);
  const config = parseJson<ImageConfig>(blob(files, manifest.config.digest, file), `${file}: config`);
  const layers = manifest.layers.map((l, i) => decompress(blob(files, l.digest, file), `${file}: layer ${i}`));
  return { config, layers };
}

function fromDockerSave(files: ReadonlyMap<string, Buffer>, file: string): { config: ImageConfig; layers: Buffer[] } {
  const ms = parseJson<DockerSaveManifest[]>(files.get('manifest.json'), `${file}: manifest.json`);
  if (!Array.isArray(ms) || ms.length !== 1) throw new FlattenError(`${file}: manifest.json must list exactly one image`);
  const m = ms[0] as DockerSaveManifest;
  const config = parseJson<ImageConfig>(files.get(m.Config), `${file}: ${m.Config}`);
  const layers = m.Layers.map((name, i) => {
    const b = files.get(name);
    if (!b) throw new FlattenError(`${file}: layer ${i} (${name}) is missing`);
    return decompress(b, `${file}: layer ${i}`);
  });
  return { config, layers };
}

/**
 * Reads an image archive: `manifest.json` (docker save, also written beside an OCI layout by
 * BuildKit's docker exporter) wins; else `index.json` (OCI layout). Checks that the config's
 * `rootfs.diff_ids` are the sha256 of the decompressed layers.
 */
export async function readImageArchive(file: string, opts: FlattenOptions = {}): Promise<ImageArchive> {
  const files = new Map<string, Buffer>();
  const links: [string, string][] = [];
  for (const e of await readTar(await readFile(file), file, opts.signal)) {
    const name = normalizeTarPath(e.path, file);
    if (e.header.type === 'file' || e.header.type === 'contiguous-file') files.set(name.slice(1), e.data);
    // docker save writes a layer that occurs twice (e.g. two empty layers) once and symlinks the other.
    else if (e.header.type === 'symlink') links.push([name, normalizeTarPath(posix.join(posix.dirname(name), e.header.linkname ?? ''), file)]);
    else if (e.header.type === 'link') links.push([name, normalizeTarPath(e.header.linkname ?? '', file)]);
  }
  for (const [name, target] of links) {
    const b = files.get(target.slice(1));
    if (b) files.set(name.slice(1), b);
  }
  const format = files.has('manifest.json') ? 'docker-save' : files.has('index.json') ? 'oci-layout' : undefined;
  if (!format) throw new FlattenError(`${file}: neither a docker-save archive (manifest.json) nor an OCI layout (index.json)`);
  const { config, layers } = format === 'docker-save' ? fromDockerSave(files, file) : fromOciLayout(files, file);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) throw new FlattenError(`${file}: config lists ${diffIds.length} diff_ids for ${layers.length} layers`);
  layers.forEach((l, i) => {
    if (diffIds[i] !== `sha256:${sha256(l)}`) throw new FlattenError(`${file}: layer ${i} does not match diff_id ${diffIds[i] ?? ''}`);
  });
  return { format, config, layers };
}
