/**
 * The layer blobs of a snapshot chain, made lazily and remembered per (snapshot, compression) in the
 * metadata DB, so re-exports and pushes cost nothing. A build's own layers go into the local store
 * uncompressed (the image exporter asks for `uncompressed`); a compressed blob is made when a layer
 * leaves the machine, from the stored blob rather than by diffing the snapshot again. Base-image
 * layers keep the blobs they were imported from (their cache entries are written when they are
 * applied), so their diff_ids match the base image's config; only `force-compression` converts them.
 */
import { closeSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { LayerBlobEntry } from '../cache/types.js';
import { failpoint } from '../util/failpoint.js';
import { allOrFirstError, allSettledOrFirstError } from '../util/parallel.js';
import { MediaType } from '../oci/types.js';
import type { ExportContext, LayerOptions } from './types.js';
import { layerMediaType, writeLayerBlob, type LayerBlobInfo } from './layer-blob.js';
import { convertBlob, rememberBlob } from './layer-convert.js';
import { readLinkedFrom, readTarIndex, TarIndexWriter, type TarReuse } from '../worker/diff/tar-index.js';

export type LayerRequest = LayerOptions & { readonly sourceDateEpoch: number | undefined };

function toInfo(e: LayerBlobEntry, uncompressedSize: number): LayerBlobInfo {
  return { digest: e.blobDigest, size: e.size, diffId: e.diffId, uncompressedSize, compression: e.compression };
}

/**
 * The stored blob an export can use as it is: one in the asked compression; else, unless forced,
 * a base image's own blob in whatever compression it came (mixed compressions in one manifest are
 * valid, and BuildKit keeps base layers as they are the same way) — and for `uncompressed` (the
 * local store) any blob at all: there is nothing to save by decoding one (a layer pulled from a
 * registry cache, a data root from before lazy compression).
 */
export function reusableBlob(present: readonly LayerBlobEntry[], opts: LayerOptions): LayerBlobEntry | undefined {
  const exact = present.find((e) => e.compression === opts.compression);
  if (exact || opts.force === true) return exact;
  return present.find((e) => e.origin === 'image') ?? (opts.compression === 'uncompressed' ? present[0] : undefined);
}

/**
 * A layer's blob being made: `hashed` resolves with its figures as soon as every byte of a new
 * uncompressed blob is hashed (before its fsync, rename and the directory's fsync), else with the
 * final ones; `done` once it is committed and remembered. `hashed` never rejects: undefined when the
 * job failed first.
 */
interface LayerJob {
  readonly hashed: Promise<LayerBlobInfo | undefined>;
  readonly done: Promise<LayerBlobInfo>;
}

/** A layer blob whose figures are known, and the promise of its commit (rejects when that fails). */
export interface PendingLayerBlob {
  readonly info: LayerBlobInfo;
  readonly done: Promise<LayerBlobInfo>;
}

/**
 * Blobs being made now, per content store and (snapshot, options): a second caller for the same
 * blob — an export that reaches a layer a build started early (src/engine/eager-layers.ts) — waits
 * for the first instead of diffing the snapshot again. Reproducible (epoch) blobs are never shared.
 */
const making = new WeakMap<object, Map<string, LayerJob>>();

/** The blob of one snapshot's own layer, creating and caching it when needed. */
export async function layerBlobFor(snapshotId: string, opts: LayerRequest, ctx: ExportContext): Promise<LayerBlobInfo> {
  return (await pendingLayerBlob(snapshotId, opts, ctx)).done;
}

/**
 * layerBlobFor, answered as soon as the blob's digests are known: an image's config and manifest
 * can be written while its last layer is still being made durable (the export of a build waits for
 * that layer, made beside the build's last step). The caller must wait for `done` before anything
 * names the image.
 */
export async function pendingLayerBlob(snapshotId: string, opts: LayerRequest, ctx: ExportContext): Promise<PendingLayerBlob> {
  if (opts.sourceDateEpoch !== undefined) return settledJob(startJob(snapshotId, opts, ctx));
  let inStore = making.get(ctx.storage.content);
  if (!inStore) making.set(ctx.storage.content, (inStore = new Map()));
  const key = `${snapshotId}\0${opts.compression}\0${opts.level ?? ''}\0${opts.force === true}`;
  const map = inStore;
  const own = (): LayerJob => {
    const job = startJob(snapshotId, opts, ctx);
    map.set(key, job);
    void job.done.catch(() => undefined).finally(() => {
      if (map.get(key) === job) map.delete(key);
    });
    return job;
  };
  const running = map.get(key);
  // The other caller's failure (its own cancellation) is not ours: then this call makes the blob,
  // also when that failure comes after the figures were handed out.
  if (running) {
    const info = await untilSettledOrAborted(running.hashed, ctx.signal);
    if (info) return { info, done: running.done.catch(() => sameBlob(info, own().done)) };
  }
  return settledJob(own());
}

function startJob(snapshotId: string, opts: LayerRequest, ctx: ExportContext): LayerJob {
  let early: ((info: LayerBlobInfo) => void) | undefined;
  const hashedEarly = new Promise<LayerBlobInfo>((resolve) => (early = resolve));
  const done = makeLayerBlob(snapshotId, opts, ctx, (info) => early?.(info));
  const hashed = Promise.race([hashedEarly, done.then((i) => i, () => undefined)]);
  return { hashed, done };
}

/** The job's figures once hashed; its failure before that is thrown. */
async function settledJob(job: LayerJob): Promise<PendingLayerBlob> {
  const info = await job.hashed;
  if (info === undefined) return { info: await job.done, done: job.done };
  return { info, done: sameBlob(info, job.done) };
}

/** `done`, checked to be the blob whose figures were handed out early. */
async function sameBlob(early: LayerBlobInfo, done: Promise<LayerBlobInfo>): Promise<LayerBlobInfo> {
  const info = await done;
  if (info.digest !== early.digest || info.diffId !== early.diffId || info.size !== early.size) {
    throw new Error(`internal: layer blob ${info.digest} is not the ${early.digest} its digests announced`);
  }
  return info;
}

/** `p`'s value, or undefined when it fails; rejects when `signal` aborts first. */
function untilSettledOrAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  signal.throwIfAborted();
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, () => resolve(undefined)).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `hashed`: told a new uncompressed blob's figures once its bytes are hashed (LayerJob). */
async function makeLayerBlob(snapshotId: string, opts: LayerRequest, ctx: ExportContext, hashed: (info: LayerBlobInfo) => void): Promise<LayerBlobInfo> {
  const cache = ctx.storage.layerBlobs;
  // Reproducible exports must not reuse a blob diffed with other mtimes — except a base image's own
  // layer blob, which is the layer (its diff_id is in the base config) whatever the epoch.
  const cacheable = opts.sourceDateEpoch === undefined;
  const present: LayerBlobEntry[] = [];
  for (const e of cache.forSnapshot(snapshotId)) {
    if ((cacheable || e.origin === 'image') && (await ctx.storage.content.claim(e.blobDigest, { signal: ctx.signal }))) present.push(e);
  }
  const reuse = reusableBlob(present, opts);
  if (reuse) return toInfo(reuse, -1);
  // The same tar is already stored in another compression: convert that (no diff, same diff_id).
  const from = present.find((e) => e.compression === 'uncompressed') ?? present[0];
  if (from) {
    const info = await convertBlob(ctx.storage, { digest: from.blobDigest, diffId: from.diffId }, opts, ctx.signal);
    rememberBlob(ctx.storage, [from], info);
    return info;
  }
  // An uncompressed blob made without an epoch is indexed, and copies the entries of the files it
  // shares with the layer it was linked from out of that layer's blob (tar-index.ts).
  const indexed = cacheable && opts.compression === 'uncompressed';
  const index = indexed ? new TarIndexWriter() : undefined;
  const earlier = indexed ? await earlierTar(snapshotId, ctx) : undefined;
  // The differ's chunks are buffers of their own: the writer may take the next while one is written.
  // Uncompressed, the stored blob is the tar: its digest is the diff_id (writeLayerBlob).
  const onHashed = opts.compression === 'uncompressed'
    ? (m: { readonly digest: string; readonly size: number }): void => hashed({ digest: m.digest, size: m.size, diffId: m.digest, uncompressedSize: m.size, compression: 'uncompressed' })
    : undefined;
  const writer = ctx.storage.content.writer({ signal: ctx.signal, chunksUnchanged: true, ...(onHashed ? { onHashed } : {}) });
  let info: LayerBlobInfo;
  try {
    const tar = ctx.differ.diff(snapshotId, {
      signal: ctx.signal,
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      ...(earlier ? { reuse: earlier } : {}),
      ...(index ? { onFileEntry: index.add } : {}),
    });
    info = await writeLayerBlob(tar, writer, { compression: opts.compression, signal: ctx.signal, ...(opts.level !== undefined ? { level: opts.level } : {}) });
    await failpoint('blob.written');
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    if (earlier) closeSync(earlier.fd);
  }
  // Best effort: without its index a later layer's tar reads its files itself.
  if (index) await index.write(ctx.snapshotter, snapshotId, info.digest).catch(() => undefined);
  if (cacheable) {
    cache.put({
      snapshotId,
      compression: opts.compression,
      blobDigest: info.digest,
      diffId: info.diffId,
      size: info.size,
      mediaType: layerMediaType(opts.compression, 'oci'),
    });
  }
  return info;
}

/**
 * The stored uncompressed tar of the layer `snapshotId` hard-links its files from, with its index,
 * opened for reading; undefined when any part is missing (then the tar reads every file).
 */
async function earlierTar(snapshotId: string, ctx: ExportContext): Promise<TarReuse | undefined> {
  const from = await readLinkedFrom(ctx.snapshotter, snapshotId);
  if (from === undefined) return undefined;
  const index = await readTarIndex(ctx.snapshotter, from);
  if (index === undefined) return undefined;
  const blob = ctx.storage.layerBlobs.forSnapshot(from).find((e) => e.compression === 'uncompressed' && e.blobDigest === index.blobDigest);
  if (blob === undefined || !(await ctx.storage.content.claim(blob.blobDigest, { signal: ctx.signal }))) return undefined;
  try {
    return { fd: openSync(ctx.storage.content.blobPath(blob.blobDigest), 'r'), index };
  } catch {
    return undefined;
  }
}

/** The blobs of a chain's layers as soon as their figures are known, and the wait for their commits. */
export interface ChainBlobs {
  /** One per layer, bottom first. */
  readonly layers: readonly LayerBlobInfo[];
  /** Resolves once every blob is committed; rejects with the first failure, after all settled. */
  readonly done: Promise<void>;
}

/**
 * Blobs of every layer of the snapshot's chain, bottom first. Layers are made CONCURRENCY at a
 * time: compression runs in libuv's thread pool, so two layers use two cores (on this 2-core
 * machine the split example's export went from 2.9 s to about half). The first failure cancels the
 * others; every one has settled (committed or aborted its blob) before the error is thrown. A
 * layer counts as made once its figures are known (pendingLayerBlob): its commit goes on beside
 * the next layers, and beside what the caller writes with the figures; `done` waits for it.
 */
export async function chainLayers(snapshot: string | undefined, opts: LayerRequest, ctx: ExportContext): Promise<ChainBlobs> {
  if (snapshot === undefined) return { layers: [], done: Promise.resolve() };
  const chain = [...(await ctx.snapshotter.chain(snapshot))].reverse();
  const out = new Array<LayerBlobInfo>(chain.length);
  const commits: Promise<unknown>[] = [];
  try {
    await allOrFirstError(chain, { concurrency: CONCURRENCY, signal: ctx.signal }, async (id, i, signal) => {
      const started = Date.now();
      const blob = await pendingLayerBlob(id, opts, Object.assign(Object.create(ctx) as ExportContext, { signal }));
      commits.push(blob.done.then((b) => {
        ctx.progress.status({ id: `layer-${id}`, name: `exporting layer ${i + 1}/${chain.length} ${b.digest.slice(0, 19)}`, current: b.size, total: b.size, started, completed: Date.now() });
      }));
      out[i] = { ...blob.info, createdAt: new Date(Math.floor((await ctx.snapshotter.stat(id)).createdAt)).toISOString() };
    });
  } catch (e) {
    await Promise.allSettled(commits);
    throw e;
  }
  return { layers: out, done: allSettledOrFirstError(commits) };
}

/** Layers made at once: one per core (each compresses on a thread-pool thread). */
const CONCURRENCY = Math.max(1, availableParallelism());

export { MediaType };
