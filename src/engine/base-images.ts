/**
 * The build's ImageProvider: FROM images come from the local store or, when absent (or with
 * `--pull`), from their registry. Resolving fetches only the manifest and the config — enough for
 * the frontend (ENV, WORKDIR, USER…) and for the FROM step's cache key — and the layers are
 * downloaded only when the FROM step actually runs, so a build whose base is a cache hit (local or
 * imported) never downloads the base image.
 */
import type { CacheStorage } from '../cache/cache-storage.js';
import { normalizeImageRef } from '../oci/reference.js';
import type { RegistryClient } from '../registry/client.js';
import { DEFAULT_PLATFORM } from '../registry/platform.js';
import { parseReference } from '../oci/reference.js';
import { UserInputError } from '../util/errors.js';
import { findLocalImage, type LocalImage } from '../worker/ops/local-image.js';
import type { ImageProgress, ImageProvider, ImageResolveMode, ProvideOptions } from '../worker/ops/image-provider.js';
import { contentSink } from './registry-access.js';

export interface BaseImagesOptions {
  readonly storage: CacheStorage;
  /** The build's registry client, made on first use (a build that needs none never opens one). */
  readonly registry: () => RegistryClient;
  /** Resolve mode of images whose LLB op sets none: `pull` with `--pull`, else `default`. */
  readonly defaultMode: ImageResolveMode;
}

export class BaseImages implements ImageProvider {
  readonly #opts: BaseImagesOptions;
  readonly #resolved = new Map<string, Promise<LocalImage>>();
  /** Images whose metadata came from a registry (their layers may still be missing). */
  readonly #remote = new WeakSet<LocalImage>();
  readonly #pulls = new Map<string, Promise<void>>();

  constructor(opts: BaseImagesOptions) {
    this.#opts = opts;
  }

  resolve(ref: string, opts: ProvideOptions): Promise<LocalImage> {
    const name = normalizeImageRef(ref);
    const mode = opts.mode ?? this.#opts.defaultMode;
    const key = `${mode}\0${name}`;
    let p = this.#resolved.get(key);
    if (!p) {
      p = this.#resolve(name, mode, opts.signal);
      this.#resolved.set(key, p);
      // A failed or cancelled resolve is not remembered: the next caller tries again.
      p.catch(() => this.#resolved.delete(key));
    }
    return p;
  }

  async #resolve(name: string, mode: ImageResolveMode, signal: AbortSignal): Promise<LocalImage> {
    const storage = this.#opts.storage;
    if (mode !== 'pull') {
      const local = await findLocalImage(storage, name, { signal });
      if (local) return local;
      if (mode === 'local') throw new UserInputError('IMAGE_NOT_FOUND', `base image ${name} is not in the local image store and its resolve mode is local`);
    }
    const res = await this.#opts.registry().pull({ ref: name, sink: contentSink(storage), layers: 'none', platform: DEFAULT_PLATFORM, signal });
    const img: LocalImage = {
      name,
      manifestDigest: res.manifestDescriptor.digest,
      manifest: res.manifest,
      configDigest: res.manifest.config.digest,
      config: res.config,
      layers: res.layers,
    };
    const local = storage.images.get(name);
    if (local?.manifestDigest === img.manifestDigest) return img;
    this.#remote.add(img);
    return img;
  }

  ensureLayers(image: LocalImage, opts: { readonly signal: AbortSignal; readonly onProgress?: (p: ImageProgress) => void }): Promise<void> {
    if (!this.#remote.has(image)) return Promise.resolve();
    let p = this.#pulls.get(image.manifestDigest);
    if (!p) {
      p = this.#pull(image, opts);
      this.#pulls.set(image.manifestDigest, p);
      p.catch(() => this.#pulls.delete(image.manifestDigest));
    }
    return p;
  }

  async #pull(image: LocalImage, opts: { readonly signal: AbortSignal; readonly onProgress?: (p: ImageProgress) => void }): Promise<void> {
    const storage = this.#opts.storage;
    const r = parseReference(image.name);
    const layers = new Set(image.layers.map((l) => l.digest));
    // By digest: the tag may have moved since the build resolved it.
    await this.#opts.registry().pull({
      ref: { domain: r.domain, path: r.path, digest: image.manifestDigest },
      sink: contentSink(storage),
      layers: 'all',
      platform: DEFAULT_PLATFORM,
      signal: opts.signal,
      ...(opts.onProgress ? {
        onProgress: (e) => {
          if (!layers.has(e.digest)) return;
          const onProgress = opts.onProgress as (p: ImageProgress) => void;
          if (e.kind === 'progress') onProgress({ digest: e.digest, current: e.current, total: e.total });
          else onProgress({ digest: e.digest, current: e.size, total: e.size });
        },
      } : {}),
    });
    storage.images.put({ name: image.name, manifestDigest: image.manifestDigest, configDigest: image.configDigest, mediaType: image.manifest.mediaType });
  }
}
