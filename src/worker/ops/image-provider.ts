/**
 * How FROM gets its image when the build has a way to reach registries: the engine injects a
 * provider into the build session; without one, images come from the local store only.
 */
import type { LocalImage } from './local-image.js';
import type { PlatformSpec } from '../../registry/types.js';

/**
 * BuildKit's `image.resolvemode`: `default` uses the local image when there is one and pulls
 * otherwise; `pull` always asks the registry (and downloads only when the image changed);
 * `local` never contacts a registry.
 */
export type ImageResolveMode = 'default' | 'pull' | 'local';

export interface ImageProgress {
  /** Bytes of one layer moved so far (`current === total` when done). */
  readonly digest: string;
  readonly current: number;
  readonly total: number;
}

export interface ProvideOptions {
  readonly signal: AbortSignal;
  /** The LLB op's resolve mode when it sets one; else the build's (`--pull`). */
  readonly mode?: ImageResolveMode;
  /** The platform to pick from a manifest list / index (the op's); default linux/amd64. */
  readonly platform?: PlatformSpec;
}

export interface ImageProvider {
  /**
   * The image's manifest and config (memoized per reference for the build). For an image that is
   * not local, only the manifest and config are fetched; its layers may still be missing.
   */
  resolve(ref: string, opts: ProvideOptions): Promise<LocalImage>;
  /**
   * Makes sure every layer blob of `image` is in the content store (downloading the missing ones,
   * in parallel) and that the image is named in the local image store.
   */
  ensureLayers(image: LocalImage, opts: { readonly signal: AbortSignal; readonly onProgress?: (p: ImageProgress) => void }): Promise<void>;
}
