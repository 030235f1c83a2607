/**
 * The frontend's interfaces: what `convertDockerfile` (Dockerfile AST → LLB definition + image
 * config) takes and returns. Everything returned is plain data owned by the caller; the
 * conversion keeps no state between calls.
 */
import type { Graph } from '@dagrejs/graphlib';
import type { Definition, LLBPlatform } from '../llb/types.js';
import type { ImageConfig } from '../oci/types.js';
import type { SourceLocation } from '../util/errors.js';
import type { UlimitEntry } from '../util/ulimit.js';
import type { ExtraHostEntry } from '../util/extra-host.js';

export interface ImageResolveOptions {
  /** The platform the stage is built for. */
  readonly platform: LLBPlatform;
  /** The `--build-context` the image stands for (the lookup's step is `[context NAME] load metadata for REF`). */
  readonly context?: string;
  readonly signal?: AbortSignal;
}

/**
 * Looks up a base image's config (ENV, WORKDIR, USER, ONBUILD, history …) by its normalized
 * reference (`docker.io/library/alpine:latest`). undefined = unknown: the stage starts from an
 * empty config, as for an image that has none.
 */
export type ImageResolver = (ref: string, opts: ImageResolveOptions) => Promise<ImageConfig | undefined>;

export interface ConvertOptions {
  /** Stage to build (case-insensitive); default: the last one. */
  readonly target?: string;
  /** `--build-arg` values. Default: none. */
  readonly buildArgs?: ReadonlyMap<string, string>;
  /** Target platform (`linux/arm64`); default: the machine's (see hostPlatform). */
  readonly platform?: string;
  /** Name of the local source holding the build context; default `context` (`local://context`). */
  readonly contextName?: string;
  /** `.dockerignore` patterns, carried as the context source's excludes. Default: none. */
  readonly dockerignore?: readonly string[];
  /** Labels added to the result image (`--label`). */
  readonly labels?: ReadonlyMap<string, string>;
  /** Ignore the cache for every step (`--no-cache`). Default false. */
  readonly noCache?: boolean;
  /** Ignore the cache only for the steps of these stages (`--no-cache-filter`). */
  readonly noCacheFilter?: readonly string[];
  /**
   * The build's `--network` when it is not the sandbox: every RUN without its own `--network`
   * gets this mode in its op, so it is part of the step's cache key (BuildKit's force-network-mode).
   */
  readonly forceNetwork?: 'none' | 'host';
  /**
   * `--add-host` entries, in order: every RUN's op carries them (written to its /etc/hosts after the
   * loopback lines), so they are part of each RUN step's cache key, as BuildKit's exec meta.
   */
  readonly extraHosts?: readonly ExtraHostEntry[];
  /** `--ulimit` entries, in order: every RUN's op carries them (its cache key too), as BuildKit's exec meta. */
  readonly ulimits?: readonly UlimitEntry[];
  /** `--shm-size` bytes: every RUN gets a tmpfs of that size at /dev/shm (a mount of its op, as BuildKit adds it). */
  readonly shmSize?: number;
  /**
   * Step names start with the stage's platform (`[linux/arm64 build 1/2] RUN …`), as BuildKit names
   * them when several platforms are built at once.
   */
  readonly prefixPlatform?: boolean;
  /**
   * `--build-context` entries by name as given (matched as BuildKit does: `alpine`, `alpine:latest`
   * and `docker.io/library/alpine` name the same): a stage of that name is replaced whole, and a
   * FROM, `COPY --from` or `RUN --mount from=` naming it (and not an earlier stage) reads it instead
   * of the image. Default: none.
   */
  readonly namedContexts?: ReadonlyMap<string, NamedContext>;
  /** Base image config lookup, for ENV/WORKDIR/USER/ONBUILD/history inheritance. Default: none. */
  readonly imageResolver?: ImageResolver;
  readonly signal?: AbortSignal;
}

export type StageBase =
  | { readonly kind: 'scratch' }
  | { readonly kind: 'image'; /** Normalized reference. */ readonly ref: string }
  | { readonly kind: 'stage'; readonly stage: string }
  | { readonly kind: 'context'; /** The `--build-context` name that replaced the base (or the whole stage). */ readonly name: string };

/**
 * What a `--build-context NAME=…` gives the name (buildx's named contexts): an image
 * (`docker-image://REF`; `scratch` for the empty one), a directory the build's session holds as the
 * local source `localName` (read with its own `.dockerignore`, `excludes`), or a Git repository or
 * HTTP(S) file URL (as ADD reads them; a file URL becomes one file named `context`).
 */
export type NamedContext =
  | { readonly kind: 'image'; readonly ref: string }
  | { readonly kind: 'local'; readonly localName: string; readonly excludes: readonly string[] }
  | { readonly kind: 'url'; readonly url: string };

/** One build stage as the conversion saw it. */
export interface StageInfo {
  /** `AS` name, or `stage-N` for unnamed stages. */
  readonly id: string;
  readonly name: string | undefined;
  readonly index: number;
  readonly base: StageBase;
  /** `os/arch[/variant]`. */
  readonly platform: string;
  /** Reachable from the target, hence converted. */
  readonly reachable: boolean;
  /** Ids of the stages (and `image:REF` pseudo-stages) it reads from: base, COPY --from, RUN --mount from. */
  readonly dependsOn: readonly string[];
  readonly location: SourceLocation;
}

export interface ConvertWarning {
  /** Stable identifier (BuildKit check names where one exists). */
  readonly code: string;
  readonly message: string;
  readonly location?: SourceLocation;
}

/** Edge label of the stage graph: why one stage reads another. */
export interface StageEdge {
  readonly kind: 'base' | 'copy' | 'mount';
}

export interface ConvertResult {
  /** The LLB definition of the target stage. */
  readonly definition: Definition;
  /** The result image config (history included; `created` and new diff_ids are the exporter's). */
  readonly image: ImageConfig;
  /** Id of the target stage. */
  readonly target: string;
  /** Every stage of the Dockerfile, in order. */
  readonly stages: readonly StageInfo[];
  /**
   * Stage dependency graph: node ids as in StageInfo.id (plus `image:REF` for COPY --from=<image>),
   * node labels the StageInfo (undefined for image pseudo-stages); an edge A → B means B reads A;
   * the graph label is the target id.
   */
  readonly graph: Graph<string, StageInfo | undefined, StageEdge>;
  readonly warnings: readonly ConvertWarning[];
}
