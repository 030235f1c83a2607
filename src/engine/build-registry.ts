/**
 * Everything one build does with registries and remote caches, in one place: the lazily made
 * registry client, FROM images (BaseImages), `--cache-from` imports (a per-build record store and
 * loader handed to the solver), `--cache-to` exports, and pushes. `close()` when the build ends.
 *
 * Why a per-build store rather than one engine-wide: imported caches belong to one build (another
 * build in the same daemon did not ask for them), and their `remote:<n>` result ids mean something
 * only to this build's loader. The solver keeps such a build's vertices apart from other builds'.
 */
import { RemoteRecordStore, type CacheExportSpec, type CacheImportSpec, INLINE_CACHE_FIELD } from '../cache/remote/index.js';
import { startVertex, type ProgressWriter } from '../progress/index.js';
import type { RegistryClient } from '../registry/client.js';
import { parseReference } from '../oci/reference.js';
import type { CacheRecordStore } from '../solver/cache-types.js';
import type { ResultLoader } from '../solver/types.js';
import { CancelledError, errorMessage, UserInputError } from '../util/errors.js';
import { layerOptions } from '../exporter/image-build.js';
import type { WorkerServices } from '../worker/ops/context.js';
import { SnapshotResultLoader } from '../worker/ops/loader.js';
import { BaseImages } from './base-images.js';
import { collectCache, dropTransientBlobs, inlineCache, writeCache, type BuildOutcomeForCache } from './cache-export.js';
import { importCache, importName } from './cache-import.js';
import { ChainMaterializer } from './chain-materialize.js';
import { pushFromStore } from './images/push.js';
import type { LayerOptions } from '../exporter/types.js';
import { openRegistryClient } from './registry-access.js';
import { RemoteResultLoader } from './remote-loader.js';
import type { CredentialLookup, PushSummary, RegistryAccess, RemoteCacheReport } from './types.js';

/** One name a build pushes, and how its layers leave (the image output's `compression=`…). */
export interface PushTarget {
  readonly name: string;
  readonly layers: LayerOptions;
}

export interface BuildRegistryOptions {
  readonly services: WorkerServices;
  readonly access: RegistryAccess;
  /** The caller's credential lookup (a remote client's docker config), tried before the engine's own. */
  readonly credentials?: CredentialLookup;
  readonly pull: boolean;
  readonly cacheFrom: readonly CacheImportSpec[];
  readonly cacheTo: readonly CacheExportSpec[];
  readonly progress: ProgressWriter;
}

function exportName(spec: CacheExportSpec): string {
  switch (spec.kind) {
    case 'registry':
      return spec.ref;
    case 'local':
      return spec.dest;
    case 'inline':
      return 'inline';
  }
}

/**
 * How a registry or local cache export's layer blobs are made: its `compression=`,
 * `compression-level=`, `force-compression=` checked as an image output's are (default gzip).
 */
function cacheLayerOptions(spec: Exclude<CacheExportSpec, { kind: 'inline' }>): LayerOptions {
  const attrs = new Map<string, string>();
  // Over the wire every value is a string, and "true"/"false" come back as booleans.
  if (spec.compression !== undefined) attrs.set('compression', String(spec.compression));
  if (spec.compressionLevel !== undefined) attrs.set('compression-level', String(spec.compressionLevel));
  if (spec.forceCompression !== undefined) attrs.set('force-compression', String(spec.forceCompression));
  try {
    return layerOptions(attrs);
  } catch (e) {
    throw new UserInputError('INVALID_CACHE_SPEC', `invalid --cache-to for ${exportName(spec)}: ${errorMessage(e)}`);
  }
}

export class BuildRegistry {
  readonly images: BaseImages;
  readonly #o: BuildRegistryOptions;
  #client: RegistryClient | undefined;
  #store: RemoteRecordStore | undefined;
  #loader: ResultLoader | undefined;
  readonly #materializer: ChainMaterializer;
  readonly #imported: { name: string; records: number; error?: string }[] = [];
  readonly #exported: { to: string; digest?: string; records: number; error?: string }[] = [];
  /** Each registry or local cache export's layer options, checked once before anything runs. */
  readonly #cacheLayers = new Map<CacheExportSpec, LayerOptions>();

  constructor(opts: BuildRegistryOptions) {
    // Malformed cache references and compressions fail the build before anything runs, not after the solve.
    for (const s of [...opts.cacheFrom, ...opts.cacheTo]) if (s.kind === 'registry') parseReference(s.ref);
    for (const s of opts.cacheTo) if (s.kind !== 'inline') this.#cacheLayers.set(s, cacheLayerOptions(s));
    this.#o = opts;
    const { storage, snapshotter, applier } = opts.services;
    this.images = new BaseImages({ storage, registry: () => this.client(), defaultMode: opts.pull ? 'pull' : 'default' });
    this.#materializer = new ChainMaterializer({ storage, snapshotter, applier });
  }

  /** The build's registry client (made on first use). */
  client(): RegistryClient {
    return (this.#client ??= openRegistryClient(this.#o.access, this.#o.credentials));
  }

  /** Reads every `--cache-from` (metadata only); unreadable ones become warnings. */
  async importCaches(signal: AbortSignal): Promise<void> {
    if (this.#o.cacheFrom.length === 0) return;
    const { services, progress } = this.#o;
    const caches = [];
    for (const spec of this.#o.cacheFrom) {
      const v = startVertex(progress, { name: `importing cache manifest from ${importName(spec)}` });
      try {
        const r = await importCache({ storage: services.storage, registry: () => this.client(), signal }, spec);
        if (r.kind === 'imported') {
          caches.push(r.cache);
          this.#imported.push({ name: r.cache.name, records: r.records });
        } else {
          this.#imported.push({ name: r.name, records: 0, error: r.reason });
          progress.write({ type: 'warning', message: `cache import from ${r.name} skipped: ${r.reason}`, timestamp: Date.now() });
        }
        v.done();
      } catch (e) {
        if (signal.aborted) v.cancel();
        else v.fail(e);
        throw signal.aborted ? new CancelledError(signal.reason) : e;
      }
    }
    if (caches.length === 0) return;
    const store = new RemoteRecordStore({
      local: services.storage.records,
      exists: (id) => services.storage.inventory.exists(id),
      caches,
    });
    this.#store = store;
    this.#loader = new RemoteResultLoader({
      base: new SnapshotResultLoader(services),
      store,
      materializer: this.#materializer,
      storage: services.storage,
      progress,
    });
  }

  /** The solver options of this build: its own store and loader when it imports cache. */
  solveOptions(): { cache?: CacheRecordStore; loader?: ResultLoader } {
    return this.#store && this.#loader ? { cache: this.#store, loader: this.#loader } : {};
  }

  get wantsInline(): boolean {
    return this.#o.cacheTo.some((s) => s.kind === 'inline');
  }

  /** The image-config field carrying inline cache metadata (`type=inline`), or undefined. */
  async inlineField(build: Omit<BuildOutcomeForCache, 'imported'>, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
    if (!this.wantsInline) return undefined;
    const v = startVertex(this.#o.progress, { name: 'preparing inline cache metadata' });
    try {
      const built = await inlineCache({ services: this.#o.services, signal, progress: v.progress }, { ...build, imported: this.#store });
      v.done();
      this.#exported.push({ to: 'inline', records: built.config.records.length });
      return { [INLINE_CACHE_FIELD]: built.config };
    } catch (e) {
      if (signal.aborted) v.cancel();
      else v.fail(e);
      throw signal.aborted ? new CancelledError(signal.reason) : e;
    }
  }

  /** Writes every registry/local `--cache-to`. */
  async exportCaches(build: Omit<BuildOutcomeForCache, 'imported'>, signal: AbortSignal): Promise<void> {
    const importedRepos = this.#o.cacheFrom.flatMap((s) => {
      if (s.kind !== 'registry') return [];
      try {
        const r = parseReference(s.ref);
        return [`${r.domain}/${r.path}`];
      } catch {
        return [];
      }
    });
    for (const spec of this.#o.cacheTo) {
      if (spec.kind === 'inline') continue;
      const name = exportName(spec);
      const v = startVertex(this.#o.progress, { name: `exporting cache to ${spec.kind === 'local' ? `directory ${name}` : name}` });
      const ctx = { services: this.#o.services, signal, progress: v.progress };
      try {
        const collected = await collectCache(ctx, { ...build, imported: this.#store }, spec.mode, this.#cacheLayers.get(spec));
        const w = await writeCache(ctx, spec, collected, { registry: () => this.client(), importedRepos })
          .finally(() => dropTransientBlobs(ctx, collected.transient));
        this.#exported.push({ to: name, digest: w.digest, records: w.records });
        v.done();
      } catch (e) {
        if (signal.aborted) {
          v.cancel();
          throw new CancelledError(signal.reason);
        }
        v.fail(e);
        if (!spec.ignoreError) throw e;
        this.#exported.push({ to: name, records: 0, error: errorMessage(e) });
        this.#o.progress.write({ type: 'warning', message: `cache export to ${name} failed (ignored): ${errorMessage(e)}`, timestamp: Date.now() });
      }
    }
  }

  /** Pushes image names of the local store (build --push), one progress step each. */
  async push(targets: readonly PushTarget[], signal: AbortSignal): Promise<PushSummary[]> {
    const out: PushSummary[] = [];
    for (const { name, layers } of targets) {
      const v = startVertex(this.#o.progress, { name: `pushing ${name}` });
      try {
        const res = await pushFromStore(this.#o.services.storage, { name }, {
          signal,
          client: this.client(),
          layers,
          onProgress: (e) => {
            if (e.kind === 'done') v.progress.status({ id: e.digest, name: `${e.outcome} ${e.digest.slice(0, 19)}`, current: e.size, total: e.size, completed: Date.now() });
          },
        });
        v.progress.log(1, `pushed ${name}@${res.digest}\n`);
        v.done();
        out.push(res);
      } catch (e) {
        if (signal.aborted) v.cancel();
        else v.fail(e);
        throw signal.aborted ? new CancelledError(signal.reason) : e;
      }
    }
    return out;
  }

  report(): RemoteCacheReport {
    const f = this.#materializer.fetched;
    return { imported: [...this.#imported], downloadedBlobs: f.blobs, downloadedBytes: f.bytes, exported: [...this.#exported] };
  }

  close(): void {
    this.#client?.close();
  }
}
