/**
 * What the LLB op implementations share: the engine-wide services (snapshots, runc, cache storage)
 * and the per-build session (context directories, secrets, network policy).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { ContextHasher } from '../../cache/context-hash.js';
import type { Snapshotter, LayerDiffer, LayerApplier } from '../types.js';
import type { Executor, NetworkMode } from '../exec/types.js';
import type { SecretProvider } from '../exec/secrets.js';
import type { CacheMountManager } from '../cache-mounts/types.js';
import type { RefLease } from '../../cache/types.js';
import { WorkerResult, targetOf } from './worker-result.js';
import type { LocalChanges } from './worker-result.js';
import type { Result, Vertex } from '../../solver/types.js';
import type { ImageProvider } from './image-provider.js';
import type { ManifestCache } from './incremental-copy.js';
import { walkDiff, type LayerWalks } from '../snapshot/diff-walk.js';

/** Engine-wide services; one per data root and process. */
export interface WorkerServices {
  readonly root: string;
  readonly tmpDir: string;
  readonly storage: CacheStorage;
  readonly snapshotter: Snapshotter;
  readonly differ: LayerDiffer;
  readonly applier: LayerApplier;
  readonly executor: Executor;
  readonly cacheMounts: CacheMountManager;
  readonly hasher: ContextHasher;
  /** The incremental COPY's manifests this process wrote or read (incremental-copy.ts). */
  readonly copyManifests: ManifestCache;
  /** Walks of committed snapshots' diffs, by id: a new result's, for the image's layer figures (diff-walk.ts). */
  readonly layerWalks: LayerWalks;
  /** Holder name for refs taken by this process. */
  readonly holder: string;
}


/** Per-build inputs the ops need. */
export interface BuildSession {
  /** Unique per build: folded into the digests of vertices that read the local context. */
  readonly id: string;
  /** Local sources by name (`local://context` → the context directory). */
  readonly locals: ReadonlyMap<string, string>;
  /**
   * Versions of local sources whose content the caller vouches for (BuildRequest.contextVersion):
   * the same directory and version always hold the same files, so their checksums may be reused.
   */
  readonly localVersions?: ReadonlyMap<string, string>;
  /** For a versioned local source: the earlier version it differs from only at known paths. */
  readonly localChanges?: ReadonlyMap<string, LocalChanges>;
  /** Local sources whose regular files may be hard-linked into layers (BuildRequest.contextLinkable). */
  readonly linkableLocals?: ReadonlySet<string>;
  /**
   * Set while the local sources' directories are still being filled (tsbuildd receiving the
   * client's context as the build starts): local sources wait for it, and take their versions
   * from what it resolves with instead of localVersions/localChanges. A rejection fails them.
   */
  readonly localsReady?: Promise<Pick<BuildSession, 'localVersions' | 'localChanges'>>;
  readonly secrets: SecretProvider;
  /** SSH agent sockets by id (`default` = $SSH_AUTH_SOCK). */
  readonly ssh: ReadonlyMap<string, string>;
  /**
   * Network for RUN steps whose LLB network is unset (`RUN` or `RUN --network=default`): `sandbox`
   * unless the build asked for `--network host` or `none`.
   */
  readonly defaultNetwork: NetworkMode;
  /** Whether `--security=insecure` is allowed. */
  readonly allowInsecure: boolean;
  /** Whether `RUN --network=host` is allowed (`--allow network.host`, or the build's `--network host`). */
  readonly allowNetworkHost: boolean;
  /** SOURCE_DATE_EPOCH for file timestamps, when set. */
  readonly sourceDateEpoch: number | undefined;
  /** Scratch directories this build created; the engine removes them when the build ends. */
  readonly scratch: string[];
  /** Where FROM images come from (local store, registries); local store only when absent. */
  readonly images?: ImageProvider;
  /** Told what each step's cache key read (the engine's build history); none: nobody listens. */
  readonly observer?: StepObserver;
  /**
   * Told when an executed RUN or file step has committed its snapshot (the engine may start making
   * the layer's blob while later steps run). Synchronous; must not throw.
   */
  readonly layerCommitted?: (vertex: Vertex, snapshotId: string, sizeBytes: number | undefined) => void;
  /**
   * Told when a step's process (a RUN's container) has started: the build now waits on it, and the
   * engine's background work (those layer blobs) may take the event loop. Synchronous; must not throw.
   */
  readonly processStarted?: () => void;
}

/**
 * What went into a step's cache key beyond its definition, reported by the ops as they compute it
 * (vertices are named by their LLB digest). Calls are synchronous and must not throw.
 */
export interface StepObserver {
  /** A context entry the step's key covers: root-relative path, per-entry fingerprint, bytes. */
  fileRead(vertex: string, path: string, fingerprint: string, size: number): void;
  /** The image a FROM step's reference resolved to (its config digest, the image ID). */
  imageResolved(vertex: string, imageId: string): void;
}

/** The `onEntry` option that reports a vertex's context reads to the session's observer, if any. */
export function fileReadReporter(deps: OpDeps, vertex: string): { onEntry?: (path: string, fingerprint: string, size: number) => void } {
  const o = deps.session.observer;
  return o ? { onEntry: (path, fingerprint, size) => o.fileRead(vertex, path, fingerprint, size) } : {};
}

export interface OpDeps {
  readonly services: WorkerServices;
  readonly session: BuildSession;
}

/** A step's own new layer: its result, and the session told (BuildSession.layerCommitted). */
export async function layerResult(deps: OpDeps, ctx: { readonly vertex: Vertex; readonly signal: AbortSignal }, id: string, parent: string | undefined): Promise<WorkerResult> {
  const r = await snapshotResult(deps, id, parent, ctx.signal);
  deps.session.layerCommitted?.(ctx.vertex, id, r.size);
  return r;
}

/**
 * A new result on a freshly committed snapshot, holding a ref on it, with its size: the build's
 * history reads it as the step's layer size (`tsbuild report`, buildHistory). Measuring it is a walk
 * of the new layer (~0.4 s of a one-file edit of a 100,000-file COPY layer, issue 14); the same walk
 * gives the layer's entries, which the image's layer figures at the end of the build then take from
 * `services.layerWalks` instead of walking the layer again.
 */
export async function snapshotResult(deps: OpDeps, id: string, parent: string | undefined, signal: AbortSignal): Promise<WorkerResult> {
  const s = deps.services;
  const walked = await walkDiff(s.snapshotter.diffDir(id), signal).catch(() => undefined);
  if (walked) s.layerWalks.set(id, walked.entries);
  const size = walked?.usage?.bytes ?? (await s.snapshotter.usage(id, { signal }).catch(() => undefined))?.bytes;
  const lease: RefLease = await s.storage.refs.acquire(id, s.holder, { signal, ...(parent ? { parent } : {}), ...(size !== undefined ? { size } : {}) });
  return WorkerResult.create({ kind: 'snapshot', id }, { lease, ...(size !== undefined ? { size } : {}) });
}

/** A read-only host directory holding a result's filesystem; valid until release(). */
export interface ReadRoot {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Opens a result for reading: a view mount of a snapshot, the context directory itself, or an
 * empty directory for scratch. Pair with release() in a finally.
 */
export async function openReadRoot(deps: OpDeps, r: Result, signal: AbortSignal): Promise<ReadRoot> {
  const t = targetOf(r);
  switch (t.kind) {
    case 'snapshot':
      return deps.services.snapshotter.view(t.id, { signal });
    case 'local':
      return { path: t.dir, release: async () => undefined };
    case 'scratch': {
      const dir = await mkdtemp(join(deps.services.tmpDir, 'scratch-'));
      return { path: dir, release: () => rm(dir, { recursive: true, force: true }) };
    }
  }
}

/** `openReadRoot`, run `fn`, always release. */
export async function withReadRoot<T>(deps: OpDeps, r: Result, fn: (dir: string) => Promise<T>, signal: AbortSignal): Promise<T> {
  const root = await openReadRoot(deps, r, signal);
  try {
    return await fn(root.path);
  } finally {
    await root.release();
  }
}
