/**
 * `tsbuild image load` (like `docker load`): images from `docker save` archives (Docker 20.10's
 * legacy format and the OCI-layout-flavoured one) and OCI image layout tarballs, plain or
 * compressed, from a file or stdin, into the local store.
 *
 * All or nothing: the archive streams into the content store first; the images are checked
 * (every referenced blob present, digests and diff_ids right); only then are all names written in
 * one transaction. A failure leaves the image store as it was; the blobs it added are reachable
 * from nothing, and the garbage collection that ends every operation removes them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { CacheStorage } from '../../cache/cache-storage.js';
import { ArchiveSourceErrors } from '../../util/archive-source-errors.js';
import { openDecompressed } from '../decompress.js';
import { danglingName, isDanglingName, putName } from '../../cache/dangling-images.js';
import { cancelledBy, readImageArchive } from './archive-reader.js';
import { LoadContext, type PlannedImage } from './load-context.js';
import { planDockerArchive } from './load-docker.js';
import { planOciLayout } from './load-oci.js';
import { LayerSizes } from '../layer-sizes.js';
import type { LayerLimits } from '../../worker/diff/layer-limits.js';
import type { LoadedImage } from '../types.js';

export interface LoadOptions {
  /** An archive path, or `-` for `input`. */
  readonly source: string;
  /** The archive's bytes when `source` is `-` (the client's standard input). */
  readonly input?: AsyncIterable<Uint8Array>;
  /** How messages name `input` (a remote client's file name). Default `stdin`. */
  readonly inputLabel?: string;
  readonly signal: AbortSignal;
  /** Bound the measuring of compressed legacy layers (their diff_ids). Default DEFAULT_LAYER_LIMITS. */
  readonly layerLimits?: LayerLimits;
}

interface Source {
  readonly input: Readable;
  readonly label: string;
  /** Stops reading the raw source: a load that ends early must not keep a pipe (stdin) open. */
  close(): void;
}

async function openSource(opts: LoadOptions): Promise<Source> {
  if (opts.source === '-') {
    if (!opts.input) throw ArchiveSourceErrors.loadNoStdin();
    // Destroying the stream ends the iteration, which closes the client's side (a pipe, stdin).
    const raw = Readable.from(opts.input);
    return { input: await openDecompressed(raw, opts.signal), label: opts.inputLabel ?? 'stdin', close: () => raw.destroy() };
  }
  let st;
  try {
    st = await stat(opts.source);
  } catch {
    throw ArchiveSourceErrors.loadMissing(opts.source);
  }
  if (st.isDirectory()) throw ArchiveSourceErrors.loadDirectory(opts.source);
  const raw = createReadStream(opts.source);
  return { input: await openDecompressed(raw, opts.signal), label: opts.source, close: () => raw.destroy() };
}

async function plan(ctx: LoadContext, limits: LayerLimits | undefined): Promise<PlannedImage[]> {
  const { documents, entries } = ctx.contents;
  if (entries === 0) throw ctx.error('IMAGE_LOAD_EMPTY', undefined, ctx.label === 'stdin' ? 'requested load from stdin, but stdin is empty' : 'the archive is empty');
  const manifestJson = documents.get('manifest.json');
  const indexJson = documents.get('index.json');
  for (const doc of ['manifest.json', 'index.json']) {
    const link = ctx.contents.links.get(doc);
    if (link && !documents.has(doc)) {
      throw ctx.error('IMAGE_LOAD_UNSAFE_PATH', doc, `is a ${link.kind} to ${JSON.stringify(link.linkname)}; it must be a regular file of the archive`);
    }
  }
  if (!manifestJson && !indexJson) {
    throw ctx.error('IMAGE_LOAD_NO_INDEX', undefined, 'not an image archive: it has neither manifest.json (docker save) nor index.json (OCI image layout)');
  }
  const layout = documents.get('oci-layout');
  if (layout) {
    const v = ctx.parseJson<{ imageLayoutVersion?: unknown }>(layout, 'oci-layout').imageLayoutVersion;
    if (typeof v !== 'string' || !v.startsWith('1.')) throw ctx.error('IMAGE_LOAD_UNSUPPORTED', 'oci-layout', `unsupported imageLayoutVersion ${JSON.stringify(v)}`);
  }
  const oci = indexJson ? await planOciLayout(ctx, indexJson) : { images: [], leaves: [] };
  const planned = manifestJson ? await planDockerArchive(ctx, manifestJson, oci.leaves, new LayerSizes({ storage: ctx.storage, limits })) : oci.images;
  if (planned.length === 0) throw ctx.error('IMAGE_LOAD_NO_IMAGES', undefined, 'the archive holds no images');
  return planned;
}

/** Writes every name in one transaction; untagged images get a placeholder entry (dangling.ts). */
function commit(storage: CacheStorage, planned: readonly PlannedImage[]): LoadedImage[] {
  const loaded: LoadedImage[] = [];
  storage.db.write(() => {
    for (const p of planned) {
      const target = { manifestDigest: p.manifestDigest, configDigest: p.configDigest, mediaType: p.mediaType };
      for (const name of p.names) {
        putName(storage.images, name, target);
        loaded.push({ name, manifestDigest: p.manifestDigest, configDigest: p.configDigest });
      }
      const named = storage.images.list().some((e) => e.manifestDigest === p.manifestDigest && !isDanglingName(e.name));
      if (named) storage.images.delete(danglingName(p.manifestDigest));
      else storage.images.put({ name: danglingName(p.manifestDigest), ...target });
      if (p.names.length === 0) loaded.push({ manifestDigest: p.manifestDigest, configDigest: p.configDigest });
    }
  });
  return loaded;
}

export async function loadImages(storage: CacheStorage, opts: LoadOptions): Promise<LoadedImage[]> {
  const source = await openSource(opts);
  let contents;
  try {
    contents = await readImageArchive(storage, source.input, { signal: opts.signal, label: source.label });
  } finally {
    source.close();
  }
  const ctx = new LoadContext({ storage, contents, label: source.label, signal: opts.signal });
  try {
    return commit(storage, await plan(ctx, opts.layerLimits));
  } catch (e) {
    if (opts.signal.aborted) throw cancelledBy(opts.signal);
    throw e;
  }
}
