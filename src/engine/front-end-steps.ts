/**
 * The front end's steps as Docker users read them in BuildKit's progress: `[internal] load
 * .dockerignore` and one `[internal] load metadata for IMAGE` per base image, so a base image that
 * cannot be found fails under its own step (not "load build definition"), and the error then says
 * how to get a base image when there is no registry to pull it from.
 */
import { loadDockerignore, type Dockerignore, type LoadDockerignoreOptions } from '../frontend/dockerignore.js';
import type { ImageResolver } from '../frontend/types.js';
import { formatPlatform } from '../llb/platform.js';
import { startVertex, type ProgressWriter } from '../progress/index.js';
import { isTsbuildError, UserInputError } from '../util/errors.js';

/** `[internal] load .dockerignore`: reads the ignore file under its own step. */
export async function loadDockerignoreStep(
  progress: ProgressWriter,
  opts: LoadDockerignoreOptions & { readonly signal: AbortSignal },
): Promise<Dockerignore> {
  const v = startVertex(progress, { name: '[internal] load .dockerignore' });
  try {
    const ignore = await loadDockerignore(opts);
    const now = Date.now();
    // BuildKit shows the bytes of the ignore file it transferred (2B for none: an empty list).
    const bytes = ignore.file === undefined ? 2 : Math.max(2, ignore.patterns.join('\n').length);
    v.progress.status({ id: 'transferring context:', name: 'transferring context:', current: bytes, started: now, completed: now });
    v.done();
    return ignore;
  } catch (e) {
    v.fail(e);
    throw e;
  }
}

/** Wraps a base-image resolver so each distinct image is looked up once, under its own step. */
export class MetadataSteps {
  readonly #progress: ProgressWriter;
  readonly #inner: ImageResolver;
  readonly #seen = new Map<string, ReturnType<ImageResolver>>();
  /** Images whose lookup failed, in order. */
  readonly failed: string[] = [];

  readonly #prefixPlatform: boolean;

  /** `prefixPlatform`: several platforms are built, so each lookup's step names its platform, as BuildKit's. */
  constructor(progress: ProgressWriter, inner: ImageResolver, prefixPlatform = false) {
    this.#progress = progress;
    this.#inner = inner;
    this.#prefixPlatform = prefixPlatform;
  }

  readonly resolve: ImageResolver = (ref, opts) => {
    // Per platform: a multi-platform base has a config per platform (its history, its ENV…).
    const key = `${ref} ${formatPlatform(opts.platform)} ${opts.context ?? ''}`;
    let p = this.#seen.get(key);
    if (!p) {
      p = this.#lookup(ref, opts);
      this.#seen.set(key, p);
    }
    return p;
  };

  async #lookup(ref: string, opts: Parameters<ImageResolver>[1]): ReturnType<ImageResolver> {
    const who = opts.context !== undefined ? `context ${opts.context}` : 'internal';
    const v = startVertex(this.#progress, { name: `[${this.#prefixPlatform ? `${formatPlatform(opts.platform)} ` : ''}${who}] load metadata for ${ref}` });
    try {
      const config = await this.#inner(ref, opts);
      v.done();
      return config;
    } catch (e) {
      if (isTsbuildError(e) && e.code === 'CANCELLED') v.cancel();
      else {
        this.failed.push(ref);
        v.fail(e);
      }
      throw e;
    }
  }
}

/**
 * The error of a build whose base image could not be looked up, with the ways to get one: load a
 * saved image, pull it, or (when FROM names an ARG) build on another base. Other errors unchanged.
 */
export function withBaseImageHint(e: unknown, failed: readonly string[]): unknown {
  const ref = failed[0];
  if (ref === undefined || !isTsbuildError(e) || e.code !== 'DOCKERFILE_BAD_FROM') return e;
  const arg = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(e.sourceLine ?? '')?.[1];
  const detail = [
    ...e.detail,
    `hint: ${ref} is not in the local store (tsbuild images) and could not be pulled. To get a base image:`,
    '  tsbuild image load -i FILE.tar    load an image saved with `docker save` or `tsbuild save`',
    `  tsbuild pull ${ref}    when its registry can be reached (tsbuild login for a private one)`,
    ...(arg !== undefined
      ? [`  tsbuild build --build-arg ${arg}=IMAGE …    build on another base image you have`]
      : ['  or change FROM to an image you have (tsbuild images)']),
  ];
  const out = new UserInputError(e.code, e.message, {
    cause: e,
    detail,
    ...(e.location ? { location: e.location } : {}),
    ...(e.sourceLine !== undefined ? { sourceLine: e.sourceLine } : {}),
  });
  return out;
}
