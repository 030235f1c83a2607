/**
 * SourceOps: `docker-image://` (layers of a local image applied as a snapshot chain, keyed by the
 * image config digest), `local://` (the build context, read in place), `http(s)://` and git
 * (downloaded or cloned into a base snapshot, keyed by content digest or commit).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LLBVertex, PbSourceOp } from '../../llb/types.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { TsbuildError, UserInputError, type SourceLocation } from '../../util/errors.js';
import { listAttr, LocalAttr } from '../../llb/source-attrs.js';
import { parseRemoteSourceOp, remoteSourceCacheKey, type RemoteSourceSpec } from '../source/remote-source-op.js';
import { fetchHttpSource } from '../source/http.js';
import { fetchGitSource, resolveGitRef } from '../source/git.js';
import { findLocalImage, type LocalImage } from './local-image.js';
import { WorkerResult } from './worker-result.js';
import { snapshotResult, type OpDeps } from './context.js';

function sha256(s: string): string {
  return `sha256:${createHash('sha256').update(s).digest('hex')}`;
}

/** OCI chain ids of an image's layers (bottom first). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let prev: string | undefined;
  for (const d of diffIds) {
    prev = prev === undefined ? d : sha256(`${prev} ${d}`);
    out.push(prev);
  }
  return out;
}

export function sourceOpFor(v: LLBVertex, src: PbSourceOp, deps: OpDeps, location: SourceLocation | undefined): Op {
  const id = src.identifier;
  if (id.startsWith('docker-image://')) return new ImageSourceOp(id.slice('docker-image://'.length), deps, location);
  if (id.startsWith('local://')) return new LocalSourceOp(id.slice('local://'.length), src, deps);
  const remote = parseRemoteSourceOp(src);
  if (remote) return new RemoteSourceOp(remote, deps, location);
  void v;
  throw new UserInputError('UNKNOWN_SOURCE', `unsupported source ${JSON.stringify(id)}`, location ? { location } : {});
}

class ImageSourceOp implements Op {
  #image: Promise<LocalImage> | undefined;
  constructor(
    private readonly ref: string,
    private readonly deps: OpDeps,
    private readonly location: SourceLocation | undefined,
  ) {}

  #resolve(signal: AbortSignal): Promise<LocalImage> {
    this.#image ??= (async () => {
      const img = await findLocalImage(this.deps.services.storage, this.ref, { signal });
      if (!img) {
        throw new UserInputError('IMAGE_NOT_FOUND', `base image ${this.ref} not found in the local image store (import it with "tsbuild image import" or "tsbuild image load")`, this.location ? { location: this.location } : {});
      }
      return img;
    })();
    return this.#image;
  }

  async cacheMap(ctx: OpContext): Promise<CacheMap> {
    const img = await this.#resolve(ctx.signal);
    return { digest: sha256(`docker-image\0${img.configDigest}`), deps: [], recordType: 'source.image' };
  }

  async exec(ctx: OpContext): Promise<Result[]> {
    const signal = ctx.signal;
    const img = await this.#resolve(signal);
    const { storage, applier, snapshotter } = this.deps.services;
    const diffIds = img.config.rootfs.diff_ids;
    if (diffIds.length !== img.layers.length) {
      throw new TsbuildError('IMAGE_INVALID', `image ${img.name}: ${img.layers.length} layers but ${diffIds.length} diff_ids`);
    }
    const chains = chainIds(diffIds);
    let parent: string | undefined;
    for (const [i, layer] of img.layers.entries()) {
      const chainKey = `chain:${chains[i] as string}`;
      const rec = await storage.records.lookup(chainKey, 0);
      if (rec && (await snapshotter.stat(rec.resultId).then((s) => s.kind === 'committed', () => false))) {
        parent = rec.resultId;
        continue;
      }
      ctx.progress.status({ id: layer.digest, name: `extracting ${layer.digest.slice(0, 19)}`, current: 0, total: layer.size, started: Date.now() });
      const stream = await storage.content.reader(layer.digest, { signal });
      const applied = await applier.apply(stream, { signal, ...(parent ? { parent } : {}) });
      if (applied.diffId !== diffIds[i]) {
        await snapshotter.remove(applied.id).catch(() => undefined);
        throw new TsbuildError('IMAGE_LAYER_MISMATCH', `image ${img.name}: layer ${i} has diff_id ${applied.diffId}, config says ${diffIds[i] as string}`);
      }
      ctx.progress.status({ id: layer.digest, name: `extracting ${layer.digest.slice(0, 19)}`, current: layer.size, total: layer.size, completed: Date.now() });
      // Exports reuse the blob the layer came from, so the base image's diff_ids stay as they are.
      storage.layerBlobs.put({
        snapshotId: applied.id,
        compression: /gzip/.test(layer.mediaType) ? 'gzip' : /zstd/.test(layer.mediaType) ? 'zstd' : 'uncompressed',
        blobDigest: layer.digest,
        diffId: applied.diffId,
        size: layer.size,
        mediaType: layer.mediaType,
      });
      await storage.records.save({ key: chainKey, output: 0, resultId: applied.id, recordType: 'source.image', description: `${img.name} layer ${i + 1}/${img.layers.length}`, replace: true });
      parent = applied.id;
    }
    if (parent === undefined) return [WorkerResult.create({ kind: 'scratch' })];
    const parentOfTop = await snapshotter.parent(parent);
    return [await snapshotResult(this.deps, parent, parentOfTop, signal)];
  }
}

class LocalSourceOp implements Op {
  constructor(
    private readonly name: string,
    private readonly src: PbSourceOp,
    private readonly deps: OpDeps,
  ) {}

  async cacheMap(): Promise<CacheMap> {
    // Unique per build: consumers key by the content they read (computeDigest), never by this.
    return { digest: sha256(`local\0${this.deps.session.id}\0${this.name}`), deps: [], recordType: 'source.local', persist: false };
  }

  async exec(): Promise<Result[]> {
    const dir = this.deps.session.locals.get(this.name);
    if (dir === undefined) throw new TsbuildError('LOCAL_SOURCE_MISSING', `no local source named ${JSON.stringify(this.name)} in this build`);
    const excludes = listAttr(this.src.attrs, LocalAttr.excludePatterns);
    return [WorkerResult.create({ kind: 'local', dir, excludes, name: this.name })];
  }
}

class RemoteSourceOp implements Op {
  #prefetched: Promise<{ key: string; file?: string }> | undefined;
  constructor(
    private readonly spec: RemoteSourceSpec,
    private readonly deps: OpDeps,
    private readonly location: SourceLocation | undefined,
  ) {}

  #scratch(): string {
    return join(this.deps.services.tmpDir, `src-${randomBytes(8).toString('hex')}`);
  }

  async cacheMap(ctx: OpContext): Promise<CacheMap> {
    this.#prefetched ??= this.#prefetch(ctx);
    const { key } = await this.#prefetched;
    return { digest: key, deps: [], recordType: this.spec.kind === 'http' ? 'source.http' : 'source.git' };
  }

  /** The key material; for http without a checksum the content must be downloaded to know it. */
  async #prefetch(ctx: OpContext): Promise<{ key: string; file?: string }> {
    const spec = this.spec;
    const loc = this.location ? { location: this.location } : {};
    if (spec.kind === 'git') {
      const r = await resolveGitRef({ remote: spec.remote, ...(spec.ref ? { ref: spec.ref } : {}), signal: ctx.signal, ...loc });
      // An abbreviated commit is only known in full after a fetch; it names one commit either way.
      return { key: remoteSourceCacheKey(spec, { commit: r.commit ?? spec.ref ?? 'HEAD' }) };
    }
    if (spec.checksum) return { key: remoteSourceCacheKey(spec, { digest: spec.checksum }) };
    const dir = this.#scratch();
    await mkdir(dir, { recursive: true });
    try {
      const r = await fetchHttpSource({
        url: spec.url, destDir: dir, tmpDir: this.deps.services.tmpDir, signal: ctx.signal, ...loc,
        ...(spec.filename ? { filename: spec.filename } : {}),
        ...(spec.perm !== undefined ? { perm: spec.perm } : {}),
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
        onProgress: (p) => ctx.progress.status({ id: spec.url, name: `downloading ${spec.url}`, current: p.current, ...(p.total !== undefined ? { total: p.total } : {}) }),
      });
      if (r.kind !== 'downloaded') throw new Error('unexpected not-modified answer');
      this.deps.session.scratch.push(dir);
      return { key: remoteSourceCacheKey(spec, { digest: r.digest }), file: r.path };
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async exec(ctx: OpContext): Promise<Result[]> {
    const { snapshotter, tmpDir } = this.deps.services;
    const signal = ctx.signal;
    const spec = this.spec;
    const pre = await (this.#prefetched ??= this.#prefetch(ctx));
    const active = await snapshotter.prepare({ signal });
    let committed = false;
    try {
      const loc = this.location ? { location: this.location } : {};
      if (spec.kind === 'git') {
        await fetchGitSource({
          remote: spec.remote, destDir: active.upperDir, tmpDir, signal, keepGitDir: spec.keepGitDir, ...loc,
          ...(spec.ref ? { ref: spec.ref } : {}),
          ...(spec.subdir ? { subdir: spec.subdir } : {}),
          ...(spec.checksum ? { checksum: spec.checksum } : {}),
        });
      } else if (pre.file) {
        await rename(pre.file, join(active.upperDir, basename(pre.file)));
        this.#prefetched = undefined;
      } else {
        await fetchHttpSource({
          url: spec.url, destDir: active.upperDir, tmpDir, signal, ...loc,
          ...(spec.checksum ? { checksum: spec.checksum } : {}),
          ...(spec.filename ? { filename: spec.filename } : {}),
          ...(spec.perm !== undefined ? { perm: spec.perm } : {}),
          ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
          ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
        });
      }
      await snapshotter.commit(active, { signal });
      committed = true;
      return [await snapshotResult(this.deps, active.id, undefined, signal)];
    } finally {
      if (!committed) await snapshotter.remove(active.id).catch(() => undefined);
    }
  }
}
