/**
 * Getting stages ready to dispatch: FROM lines expanded with the global ARGs, base images resolved
 * (config inherited through the image resolver), and each stage's starting state — the base stage's
 * state, scratch, or the image source — with the base config's Env/WORKDIR/USER applied.
 */
import { normalizeImageRef } from '../../../oci/reference.js';
import { formatPlatform, parsePlatform } from '../../../llb/platform.js';
import { State } from '../../../llb/state.js';
import type { LLBPlatform } from '../../../llb/types.js';
import { isTsbuildError, throwIfAborted } from '../../../util/errors.js';
import type { ConvertOptions, ConvertWarning } from '../../types.js';
import { Diagnostics, diagnosticError, fail } from '../instructions/diagnostics.js';
import type { TypedDockerfile } from '../instructions/instruction.js';
import { siteOf } from '../instructions/site.js';
import type { ParseContext } from '../instructions/site.js';
import type { Expander } from './expand.js';
import { DEFAULT_PATH, cloneImage, emptyImage, envKey, envValue, hasNoLayers, inheritImage } from './image-config.js';
import { StageSet } from './stage-graph.js';
import { StageState } from './stage-state.js';
import { isEmptyImageContext, namedContextDescription, namedContextState } from './named-contexts.js';
import type { FoundContext } from './named-contexts.js';

const SCRATCH = 'scratch';

/** Creates the registered stages: FROM expanded, stage bases linked, platforms set. */
export function createStages(typed: TypedDockerfile, set: StageSet, globals: ReadonlyMap<string, string>, expander: Expander, ctx: ParseContext, targetPlatform: LLBPlatform, opts: ConvertOptions): void {
  const lookup = (k: string): string | undefined => globals.get(k);
  for (const def of typed.stages) {
    const at = siteOf(def.from.node, ctx);
    const baseName = expander.word(def.from.image, lookup, at);
    if (baseName === '') fail(Diagnostics.badFrom, [`base name (${def.from.image}) should not be blank`], at, def.from.image);
    let platform: LLBPlatform | undefined;
    if (def.from.platform !== undefined) {
      const p = expander.word(def.from.platform, lookup, at);
      if (p === '') fail(Diagnostics.badFrom, [`empty platform value from expression ${def.from.platform}`], at, '--platform');
      try {
        platform = parsePlatform(p);
      } catch (e) {
        fail(Diagnostics.badFrom, [`failed to parse platform ${def.from.platform}: ${(e as Error).message}`], at, '--platform');
      }
    }
    const id = def.name ?? `stage-${def.index}`;
    const s = new StageState({ def, id, metaStage: def.name ?? String(def.index), baseName, platform: platform ?? targetPlatform, image: emptyImage(platform ?? targetPlatform) });
    s.explicitPlatform = platform !== undefined;
    // A build context named like the stage replaces it whole (BuildKit checks this first). FROM
    // <name> refers to a stage only if the stage comes earlier; otherwise to a build context of
    // that name, else an image.
    const replacing = def.name !== undefined ? set.contexts.find(def.name, s.platform) : undefined;
    const base = replacing ? undefined : set.named(baseName);
    if (replacing) {
      s.context = replacing;
      s.replaced = true;
      s.commands = [];
    } else if (base) {
      s.base = base;
    } else {
      s.context = set.contexts.find(baseName, s.platform);
    }
    s.ignoreCache = opts.noCache === true || (opts.noCacheFilter ?? []).some((n) => def.name !== undefined && n.toLowerCase() === def.name);
    set.add(s);
  }
}

/** Resolves the base images of `stages` (in parallel); unresolvable configs become empty ones. */
export async function resolveBases(stages: readonly StageState[], opts: ConvertOptions, ctx: ParseContext, warnings: ConvertWarning[]): Promise<void> {
  const pending = stages.filter((s) => !s.resolved && !s.base);
  await Promise.all(pending.map(async (s) => {
    s.resolved = true;
    if (s.context) return resolveContextBase(s, s.context, opts, ctx, warnings);
    if (s.baseName.toLowerCase() === SCRATCH && !s.isPseudo) {
      s.image = emptyImage(s.platform);
      return;
    }
    const at = s.def ? siteOf(s.def.from.node, ctx) : undefined;
    let ref: string;
    try {
      ref = normalizeImageRef(s.baseName);
    } catch (e) {
      if (!at) throw e;
      return fail(Diagnostics.badFrom, [`invalid base image "${s.baseName}": ${(e as Error).message}`], at, s.def?.from.image);
    }
    s.baseName = ref;
    if (s.isPseudo || !opts.imageResolver) {
      s.image = emptyImage(s.platform, { workingDir: false });
      return;
    }
    await inheritConfig(s, ref, `base image ${ref}`, opts, ctx, warnings);
  }));
  throwIfAborted(opts.signal);
}

/**
 * A stage (or pseudo-stage) that starts from a `--build-context`: an image context's config is
 * inherited as a base image's (BuildKit resolves it the same way); a directory, URL or the empty
 * image starts from an empty config.
 */
async function resolveContextBase(s: StageState, found: FoundContext, opts: ConvertOptions, ctx: ParseContext, warnings: ConvertWarning[]): Promise<void> {
  const c = found.context;
  if (c.kind !== 'image' || isEmptyImageContext(c) || s.isPseudo || !opts.imageResolver) {
    s.image = emptyImage(s.platform);
    s.baseIsScratch = isEmptyImageContext(c);
    return;
  }
  let ref: string;
  try {
    ref = normalizeImageRef(c.ref);
  } catch (e) {
    // The client checked the reference; a daemon's request may come from any client.
    const at = s.def ? siteOf(s.def.from.node, ctx) : undefined;
    if (!at) throw e;
    return fail(Diagnostics.badFrom, [`invalid image "${c.ref}" for build context ${found.name}: ${(e as Error).message}`], at);
  }
  await inheritConfig(s, ref, `build context ${found.name} (${ref})`, opts, ctx, warnings, found.name);
}

/** Looks up `ref`'s config and makes it the stage's base config; `what` names it in messages. */
async function inheritConfig(s: StageState, ref: string, what: string, opts: ConvertOptions, ctx: ParseContext, warnings: ConvertWarning[], context?: string): Promise<void> {
  const resolver = opts.imageResolver;
  if (!resolver) return;
  const at = s.def ? siteOf(s.def.from.node, ctx) : undefined;
  let config;
  try {
    config = await resolver(ref, { platform: s.platform, ...(context !== undefined ? { context } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (isTsbuildError(e) && e.code === 'CANCELLED') throw e;
    const why = isTsbuildError(e) ? e.message : e instanceof Error ? e.message : String(e);
    if (!at) throw e;
    throw diagnosticError(Diagnostics.badFrom, [`failed to resolve ${what}: ${why}`], at, undefined, e);
  }
  if (!config) {
    warnings.push({ code: 'BaseImageNotResolved', message: `no config found for ${what}; starting from an empty config`, ...(s.def ? { location: s.def.from.location } : {}) });
    s.image = emptyImage(s.platform, { workingDir: false });
    return;
  }
  s.baseImage = cloneImage(config);
  s.image = inheritImage(config, s.platform);
  s.baseIsScratch = hasNoLayers(config);
}

/** Step totals and progress names, once triggers are known (BuildKit counts FROM, RUN, COPY, ADD, WORKDIR). */
export function numberSteps(set: StageSet, prefixPlatform = false): void {
  const multi = set.states.length > 1;
  for (const s of set.states) {
    s.displayName = [prefixPlatform ? formatPlatform(s.platform) : '', multi && !s.isPseudo ? s.id : ''].filter((p) => p !== '').join(' ');
    if (s.isPseudo) { s.cmdTotal = 0; continue; }
    let total = !s.base && (s.context !== undefined || s.baseName.toLowerCase() !== SCRATCH) && !s.baseIsScratch ? 1 : 0;
    for (const c of s.commands.slice(s.triggerCount)) {
      if (c.kind === 'RUN' || c.kind === 'COPY' || c.kind === 'ADD' || c.kind === 'WORKDIR') total++;
    }
    s.cmdTotal = total + s.triggerCount;
  }
}

/** The pseudo-stage for COPY --from=<image>: just the image. */
export function initPseudoStage(s: StageState): void {
  const description = s.context ? namedContextDescription(s.context) : `FROM ${s.baseName}`;
  const constraints = s.firstUse ? s.constraints(description, 0, s.firstUse) : { description };
  s.state = s.context ? namedContextState(s.context, s.platform, constraints) : State.image(s.baseName, { platform: s.platform, constraints });
  s.dispatched = true;
}

/** The state a stage starts from, with the base config's Env, WORKDIR and USER applied. */
export function initStage(s: StageState): void {
  const base = s.base;
  if (base) {
    s.state = base.state;
    s.platform = base.platform;
    s.image = cloneImage(base.image);
    // The base stage's ARG values stay in the env, but its declarations are not this stage's: a RUN
    // here lists only the ARGs declared after this FROM (Docker 20.10).
  } else if ((s.baseName.toLowerCase() === SCRATCH && !s.context) || s.baseIsScratch) {
    s.state = State.scratch().platform(s.platform);
  } else if (s.context) {
    // The step number is taken (numberSteps counted this start as a FROM); the name is BuildKit's.
    const from = s.def?.from;
    const { step } = s.prefixed(`FROM ${s.baseName}`);
    s.state = namedContextState(s.context, s.platform, s.constraints(namedContextDescription(s.context), step, from ? { startLine: from.node.startLine, endLine: from.node.endLine, column: from.node.column } : undefined));
  } else {
    const from = s.def?.from;
    const { description, step } = s.prefixed(`FROM ${s.baseName}`);
    s.state = State.image(s.baseName, {
      platform: s.platform,
      constraints: s.constraints(description, step, from ? { startLine: from.node.startLine, endLine: from.node.endLine, column: from.node.column } : undefined),
    });
  }
  // Triggers of the base have been turned into commands; they do not carry over.
  delete s.image.config.OnBuild;
  const env = s.image.config.Env ?? [];
  if (!env.some((e) => envKey(e) === 'PATH')) s.image.config.Env = [...env, `PATH=${DEFAULT_PATH}`];
  s.state = s.state.platform(s.platform);
  for (const e of s.image.config.Env ?? []) s.state = s.state.addEnv(envKey(e), envValue(e));
  if (s.image.config.WorkingDir) s.state = s.state.dir(s.image.config.WorkingDir, { asWritten: true });
  if (s.image.config.User) s.state = s.state.user(s.image.config.User);
}
