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
import { DEFAULT_PLATFORM, formatPlatform, selectPlatform, type PlatformSpec } from '../registry/platform.js';
import type { ImageConfig } from '../oci/types.js';
import { parseReference } from '../oci/reference.js';
import { isTsbuildError, UserInputError } from '../util/errors.js';
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

/** True when an image config is for `want` (or names no platform). */
function configMatches(config: ImageConfig, want: PlatformSpec): boolean {
  if (!config.architecture || !config.os) return true;
  const have = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  return selectPlatform([{ mediaType: '', digest: '', size: 0, platform: have }], want) !== undefined;
}

export class BaseImages implements ImageProvider {
  readonly #opts: BaseImagesOptions;
  readonly #resolved = new Map<string, Promise<LocalImage>>();
  /** Images whose metadata came from a registry (their layers may still be missing). */
  readonly #remote = new WeakSet<LocalImage>();
  readonly #pulls = new Map<string, Promise<void>>();
  /** The index a registry image was chosen from: the local store names the index, not one platform's manifest. */
  readonly #indexOf = new WeakMap<LocalImage, { readonly digest: string; readonly mediaType: string }>();
  /** InvalidBaseImagePlatform warnings of the bases resolved so far (the build shows them). */
  readonly platformWarnings: string[] = [];

  constructor(opts: BaseImagesOptions) {
    this.#opts = opts;
  }

  resolve(ref: string, opts: ProvideOptions): Promise<LocalImage> {
    const name = normalizeImageRef(ref);
    const mode = opts.mode ?? this.#opts.defaultMode;
    const platform = opts.platform ?? DEFAULT_PLATFORM;
    const key = `${mode}\0${name}\0${formatPlatform(platform)}`;
    let p = this.#resolved.get(key);
    if (!p) {
      p = this.#resolve(name, mode, platform, opts.signal);
      this.#resolved.set(key, p);
      // A failed or cancelled resolve is not remembered: the next caller tries again.
      p.catch(() => this.#resolved.delete(key));
    }
    return p;
  }

  async #resolve(name: string, mode: ImageResolveMode, platform: PlatformSpec, signal: AbortSignal): Promise<LocalImage> {
    const storage = this.#opts.storage;
    if (mode !== 'pull') {
      // A local index without the platform's entry is looked up at the registry like a missing image.
      let noPlatform: unknown;
      const local = await findLocalImage(storage, name, { signal, platform }).catch((e: unknown) => {
        if (isTsbuildError(e) && e.code === 'IMAGE_NO_PLATFORM') return void (noPlatform = e);
        throw e;
      });
      // A single-platform image made for another platform is used as it is (as BuildKit uses a
      // single-platform base), with a warning; --pull asks its registry for the platform's.
      if (local) {
        // A platform's entry of an index that another platform's pull stored (this build, or one
        // running beside it): its manifest and config came with a metadata-only resolve, and its
        // layers may not be here yet. Then they come from the index's registry, like a remote image.
        const entry = storage.images.get(name);
        if (entry !== undefined && entry.manifestDigest !== local.manifestDigest && !(await this.#layersHere(local, signal))) {
          this.#remote.add(local);
          this.#indexOf.set(local, { digest: entry.manifestDigest, mediaType: entry.mediaType });
          return local;
        }
        if (!configMatches(local.config, platform)) {
          this.platformWarnings.push(`base image ${name} is ${local.config.os}/${local.config.architecture}${local.config.variant ? `/${local.config.variant}` : ''}, `
            + `not ${formatPlatform(platform)} as this build expects (use --pull to ask its registry for a ${formatPlatform(platform)} image)`);
        }
        return local;
      }
      if (mode === 'local') {
        if (noPlatform !== undefined) throw new UserInputError('IMAGE_NO_PLATFORM', `base image ${name} in the local image store has no manifest for ${formatPlatform(platform)} and its resolve mode is local`);
        throw new UserInputError('IMAGE_NOT_FOUND', `base image ${name} is not in the local image store and its resolve mode is local`);
      }
    }
    return this.#fromRegistry(name, platform, signal);
  }

  async #fromRegistry(name: string, platform: PlatformSpec, signal: AbortSignal): Promise<LocalImage> {
    const storage = this.#opts.storage;
    const res = await this.#opts.registry().pull({ ref: name, sink: contentSink(storage), layers: 'none', platform, signal });
    const img: LocalImage = {
      name,
      manifestDigest: res.manifestDescriptor.digest,
      manifest: res.manifest,
      configDigest: res.manifest.config.digest,
      config: res.config,
      layers: res.layers,
    };
    // The local entry may be the index this manifest came from: then its layers are local too.
    // The local entry may be this manifest, or the index it came from; its layers are local only
    // when they are all here (an index stored by one platform's pull lacks the others' layers).
    const local = storage.images.get(name);
    const named = local?.manifestDigest === img.manifestDigest || (local !== undefined && local.manifestDigest === res.index?.descriptor.digest);
    if (named && (await this.#layersHere(img, signal))) return img;
    this.#remote.add(img);
    if (res.index) this.#indexOf.set(img, { digest: res.index.descriptor.digest, mediaType: res.index.descriptor.mediaType });
    return img;
  }

  /** True when every layer blob of `image` is in the content store. */
  async #layersHere(image: LocalImage, signal: AbortSignal): Promise<boolean> {
    for (const l of image.layers) if (!(await this.#opts.storage.content.has(l.digest, { signal }))) return false;
    return true;
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
    // An image chosen from an index is stored as the index (its blob came with the pull), so a
    // build for another platform finds that platform missing and pulls it, instead of taking
    // this platform's manifest for its own.
    const idx = this.#indexOf.get(image);
    storage.images.put({ name: image.name, manifestDigest: idx?.digest ?? image.manifestDigest, configDigest: image.configDigest, mediaType: idx?.mediaType ?? image.manifest.mediaType });
  }
}
