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
import { abortable } from '../../solver/abortable.js';
import { attr, ImageAttr, listAttr, LocalAttr } from '../../llb/source-attrs.js';
import { parseRemoteSourceOp, remoteSourceCacheKey, type RemoteSourceSpec } from '../source/remote-source-op.js';
import { fetchHttpSource } from '../source/http.js';
import { fetchGitSource, resolveGitRef } from '../source/git.js';
import { findLocalImage, type LocalImage } from './local-image.js';
import { unpackImage } from './image-unpack.js';
import type { ImageResolveMode } from './image-provider.js';
import type { PlatformSpec } from '../../registry/types.js';
import { WorkerResult } from './worker-result.js';
import { snapshotResult, type OpDeps } from './context.js';

function sha256(s: string): string {
  return `sha256:${createHash('sha256').update(s).digest('hex')}`;
}

export function sourceOpFor(v: LLBVertex, src: PbSourceOp, deps: OpDeps, location: SourceLocation | undefined): Op {
  const id = src.identifier;
  if (id.startsWith('docker-image://')) return new ImageSourceOp(id.slice('docker-image://'.length), v.digest, src, platformOf(v), deps, location);
  if (id.startsWith('local://')) return new LocalSourceOp(id.slice('local://'.length), src, deps);
  const remote = parseRemoteSourceOp(src);
  if (remote) return new RemoteSourceOp(remote, deps, location);
  void v;
  throw new UserInputError('UNKNOWN_SOURCE', `unsupported source ${JSON.stringify(id)}`, location ? { location } : {});
}

/** The op's platform (which entry of a multi-platform base it wants), when it names one. */
function platformOf(v: LLBVertex): PlatformSpec | undefined {
  const p = v.op.pb.platform;
  if (!p?.os || !p.architecture) return undefined;
  return p.variant ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture };
}

class ImageSourceOp implements Op {
  #image: Promise<LocalImage> | undefined;
  readonly #mode: ImageResolveMode | undefined;
  constructor(
    private readonly ref: string,
    private readonly vertexDigest: string,
    src: PbSourceOp,
    private readonly platform: PlatformSpec | undefined,
    private readonly deps: OpDeps,
    private readonly location: SourceLocation | undefined,
  ) {
    const m = attr(src.attrs, ImageAttr.resolveMode);
    this.#mode = m === 'pull' || m === 'local' || m === 'default' ? m : undefined;
  }

  #resolve(signal: AbortSignal): Promise<LocalImage> {
    this.#image ??= (async () => {
      const provider = this.deps.session.images;
      const platform = this.platform ? { platform: this.platform } : {};
      if (provider) return provider.resolve(this.ref, { signal, ...(this.#mode ? { mode: this.#mode } : {}), ...platform });
      const img = await findLocalImage(this.deps.services.storage, this.ref, { signal, ...platform });
      if (!img) {
        throw new UserInputError('IMAGE_NOT_FOUND', `base image ${this.ref} not found in the local image store (import it with "tsbuild image import" or "tsbuild image load")`, this.location ? { location: this.location } : {});
      }
      return img;
    })();
    return this.#image;
  }

  async cacheMap(ctx: OpContext): Promise<CacheMap> {
    const img = await this.#resolve(ctx.signal);
    this.deps.session.observer?.imageResolved(this.vertexDigest, img.configDigest);
    return { digest: sha256(`docker-image\0${img.configDigest}`), deps: [], recordType: 'source.image' };
  }

  async exec(ctx: OpContext): Promise<Result[]> {
    const signal = ctx.signal;
    const img = await this.#resolve(signal);
    const { storage, applier, snapshotter } = this.deps.services;
    // Only now are the layers needed: a build whose FROM step is a cache hit never downloads them.
    const provider = this.deps.session.images;
    if (provider) {
      const started = Date.now();
      await provider.ensureLayers(img, {
        signal,
        onProgress: (p) => ctx.progress.status({
          id: p.digest, name: `pulling ${p.digest.slice(0, 19)}`, current: p.current, total: p.total, started, ...(p.current >= p.total ? { completed: Date.now() } : {}),
        }),
      });
    }
    const top = await unpackImage({ storage, applier, snapshotter }, img, {
      signal,
      onLayer: (p) => ctx.progress.status({
        id: `extract-${p.digest}`,
        name: `extracting ${p.digest.slice(0, 19)}`,
        current: p.phase === 'done' ? p.size : 0,
        total: p.size,
        ...(p.phase === 'done' ? { completed: Date.now() } : { started: Date.now() }),
      }),
    });
    if (top === undefined) return [WorkerResult.create({ kind: 'scratch' })];
    return [await snapshotResult(this.deps, top, await snapshotter.parent(top), signal)];
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

  async exec(ctx: OpContext): Promise<Result[]> {
    const session = this.deps.session;
    const dir = session.locals.get(this.name);
    if (dir === undefined) throw new TsbuildError('LOCAL_SOURCE_MISSING', `no local source named ${JSON.stringify(this.name)} in this build`);
    // Steps that do not read the context (FROM, a first RUN) run while it still arrives.
    const ready = session.localsReady ? await abortable(session.localsReady, ctx.signal) : session;
    const excludes = listAttr(this.src.attrs, LocalAttr.excludePatterns);
    const version = ready.localVersions?.get(this.name);
    const changes = version !== undefined ? ready.localChanges?.get(this.name) : undefined;
    const linkable = session.linkableLocals?.has(this.name) === true;
    return [WorkerResult.create({ kind: 'local', dir, excludes, name: this.name, ...(version !== undefined ? { version } : {}), ...(changes !== undefined ? { changes } : {}), ...(linkable ? { linkable } : {}) })];
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

