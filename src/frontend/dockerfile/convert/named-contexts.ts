/**
 * `--build-context NAME=…` (buildx's named contexts) in the conversion: which name a FROM, a
 * `COPY --from`, a `RUN --mount from=` or a stage's own name matches, and the state the context
 * starts from. Names match as BuildKit's dockerui matches them: by the image reference's familiar
 * form without `:latest`, so `alpine`, `alpine:latest` and `docker.io/library/alpine` are one name
 * (and `alpine:3.19` another); `scratch` and `context` are never looked up. A name may be for one
 * platform (`alpine::linux/arm64`): a stage built for that platform takes it before the plain one.
 */
import { familiarImageRef, normalizeImageRef } from '../../../oci/reference.js';
import { State } from '../../../llb/state.js';
import type { LLBPlatform, OpConstraints } from '../../../llb/types.js';
import type { NamedContext } from '../../types.js';
import { gitState, parseGitSource } from './remote-source.js';
import { formatPlatform, parsePlatform } from '../../../llb/platform.js';

export interface FoundContext {
  /** The name as the build gave it. */
  readonly name: string;
  readonly context: NamedContext;
}

/** The key a name is matched under; undefined for one that is no image reference (never matched). */
function contextKey(name: string): string | undefined {
  try {
    const f = familiarImageRef(name);
    return f.endsWith(':latest') ? f.slice(0, -':latest'.length) : f;
  } catch {
    return undefined;
  }
}

export class NamedContexts {
  private readonly byKey = new Map<string, FoundContext>();

  constructor(given: ReadonlyMap<string, NamedContext> | undefined) {
    for (const [name, context] of given ?? []) {
      const at = name.lastIndexOf('::');
      const key = contextKey(at < 0 ? name : name.slice(0, at));
      if (key === undefined) continue;
      if (at < 0) {
        this.byKey.set(key, { name, context });
        continue;
      }
      try {
        this.byKey.set(`${key}::${formatPlatform(parsePlatform(name.slice(at + 2)))}`, { name, context });
      } catch {
        // Not a platform: never matched (the engine refuses such a name before converting).
      }
    }
  }

  /**
   * The context `name` (a stage name, FROM value or `--from` value) stands for, if any: the one
   * given for `platform` (`NAME::os/arch`) before the one for every platform.
   */
  find(name: string, platform: LLBPlatform): FoundContext | undefined {
    if (this.byKey.size === 0) return undefined;
    const lower = name.toLowerCase();
    if (lower === 'scratch' || lower === 'context') return undefined;
    const key = contextKey(name);
    if (key === undefined) return undefined;
    return this.byKey.get(`${key}::${formatPlatform(platform)}`) ?? this.byKey.get(key);
  }
}

/** `docker-image://scratch`: the empty filesystem, as BuildKit's EmptyImageName. */
export function isEmptyImageContext(c: NamedContext): boolean {
  return c.kind === 'image' && c.ref.toLowerCase() === 'scratch';
}

/**
 * The state `found` starts from (its image config is applied by the caller). `constraints` name
 * the step; an image keeps its normalized reference.
 */
export function namedContextState(found: FoundContext, platform: LLBPlatform, constraints: OpConstraints): State {
  const c = found.context;
  switch (c.kind) {
    case 'image':
      return isEmptyImageContext(c) ? State.scratch().platform(platform) : State.image(normalizeImageRef(c.ref), { platform, constraints });
    case 'local':
      // Read afresh by every build, as the main context's `[internal] load build context`: no
      // stage, so it is not one of the build's steps (history, --expect-cached).
      return State.local(c.localName, { excludePatterns: c.excludes, sharedKeyHint: c.localName }, { description: constraints.description ?? '', locations: constraints.locations ?? [] }).platform(platform);
    case 'url': {
      const git = parseGitSource(c.url);
      const st = git ? gitState(git, constraints) : State.http(c.url, { filename: 'context', constraints });
      return st.platform(platform);
    }
  }
}

/** How the step that loads `found` is named in progress (BuildKit: `[context NAME] …`). */
export function namedContextDescription(found: FoundContext): string {
  const c = found.context;
  const what = c.kind === 'image' ? normalizeImageRef(c.ref) : c.kind === 'local' ? 'load from client' : c.url;
  return `[context ${found.name}] ${what}`;
}
