/**
 * Dockerfile AST → LLB definition + image config (BuildKit's dockerfile2llb). The pipeline:
 * type every instruction; evaluate the global ARGs; create stages (FROM expanded); link the stage
 * graph and reject cycles; resolve the base images of the stages the target needs (firing their
 * ONBUILD triggers, which may add stages); dispatch those stages in Dockerfile order; marshal the
 * target. Unreachable stages are typed but never converted.
 */
import { Pacer } from '../../../util/yield.js';
import { posix } from 'node:path';
import { State } from '../../../llb/state.js';
import { formatPlatform, hostPlatform, parsePlatform } from '../../../llb/platform.js';
import type { LLBPlatform } from '../../../llb/types.js';
import { UserInputError, throwIfAborted } from '../../../util/errors.js';
import { didYouMean } from '../../../util/did-you-mean.js';
import type { DockerfileAST } from '../ast.js';
import { joinedLines } from '../file-parser.js';
import type { ConvertOptions, ConvertResult, ConvertWarning, StageInfo } from '../../types.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import { parseInstructionsAsync } from '../instructions/stages.js';
import { siteOf } from '../instructions/site.js';
import type { ParseContext } from '../instructions/site.js';
import type { StageCommand } from '../instructions/instruction.js';
import { evalGlobalArgs, isPredefinedArg, platformArgs, proxyEnvFromBuildArgs, sourceDateEpoch } from './args.js';
import { dispatch } from './dispatch.js';
import type { DispatchContext } from './dispatch-context.js';
import { Expander } from './expand.js';
import { parseTriggers } from './onbuild.js';
import { StageSet, checkCycles, collectDeps, fromToken, reachableFrom, stageGraph } from './stage-graph.js';
import { NamedContexts } from './named-contexts.js';
import { createStages, initPseudoStage, initStage, numberSteps, resolveBases } from './stage-setup.js';
import type { StageState } from './stage-state.js';

/** BuildKit's normalizeContextPaths: relative, sorted, unique; [] when the whole context is used. */
export function normalizeContextPaths(paths: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const clean = posix.join('/', p).replace(/(.)\/+$/, '$1');
    if (clean === '/') return [];
    out.add(clean.slice(1));
  }
  return [...out].sort();
}

function targetPlatformOf(opts: ConvertOptions, build: LLBPlatform): LLBPlatform {
  if (opts.platform === undefined) return build;
  try {
    return parsePlatform(opts.platform);
  } catch (e) {
    throw new UserInputError('INVALID_PLATFORM', `--platform: ${(e as Error).message}`);
  }
}

function pickTarget(set: StageSet, target: string | undefined): StageState {
  const stages = set.stages();
  if (target === undefined || target === '') return stages[stages.length - 1] as StageState;
  const s = set.named(target);
  if (s) return s;
  throw new UserInputError(Diagnostics.unknownTarget.code, Diagnostics.unknownTarget.message(target, didYouMean(target, set.names())));
}

/** Fires ONBUILD triggers of reachable stages until no new stage dependency appears. */
async function resolveReachable(set: StageSet, target: StageState, opts: ConvertOptions, expander: Expander, ctx: ParseContext, warnings: ConvertWarning[]): Promise<Set<StageState>> {
  const triggered = new Set<StageState>();
  for (;;) {
    const reachable = reachableFrom(target);
    await resolveBases([...reachable], opts, ctx, warnings);
    let more = false;
    for (const s of set.states) {
      if (!reachable.has(s) || !s.def || s.replaced || triggered.has(s)) continue;
      triggered.add(s);
      const texts = s.base
        ? (s.base.replaced ? [] : s.base.def?.commands ?? []).flatMap((c) => (c.kind === 'ONBUILD' ? [c.expression] : []))
        : s.baseImage?.config.OnBuild ?? [];
      if (texts.length === 0) continue;
      const cmds = parseTriggers(texts, s.def.from, ctx);
      s.commands = [...cmds, ...s.commands];
      s.triggerCount = cmds.length;
      if (collectDeps(s, cmds, set, expander, ctx)) more = true;
    }
    if (!more) return reachable;
    checkCycles(set, ctx);
  }
}

function stageInfos(set: StageSet, reachable: ReadonlySet<StageState>): Map<StageState, StageInfo> {
  const out = new Map<StageState, StageInfo>();
  for (const s of set.stages()) {
    const def = s.def;
    if (!def) continue;
    out.set(s, {
      id: s.id,
      name: def.name,
      index: def.index,
      base: s.base ? { kind: 'stage', stage: s.base.id } : s.context ? { kind: 'context', name: s.context.name } : s.baseName.toLowerCase() === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: s.baseName },
      platform: formatPlatform(s.platform),
      reachable: reachable.has(s),
      dependsOn: [...(s.base ? [s.base.id] : []), ...[...s.deps.keys()].map((d) => d.id)],
      location: def.from.location,
    });
  }
  return out;
}

const ONBUILD = { onbuild: true } as const;
const NOT_ONBUILD = { onbuild: false } as const;

export async function convertDockerfile(ast: DockerfileAST, opts: ConvertOptions = {}): Promise<ConvertResult> {
  throwIfAborted(opts.signal);
  const ctx: ParseContext = { file: ast.file, lines: ast.lines };
  const typed = await parseInstructionsAsync(ast, opts.signal);
  if (typed.stages.length === 0) fail(Diagnostics.noStages, [], { file: ast.file, lines: ast.lines, line: Math.max(1, ast.lines.length), column: 1 });
  const warnings: ConvertWarning[] = ast.warnings.map((w) => ({
    code: w.code ?? 'ParseWarning',
    message: w.message,
    location: { file: ast.file, line: w.line, column: 1 },
  }));
  const expander = new Expander(ast.escapeToken);
  const buildPlatform = hostPlatform();
  const targetPlatform = targetPlatformOf(opts, buildPlatform);
  const buildArgs = opts.buildArgs ?? new Map<string, string>();
  const globals = evalGlobalArgs(typed.metaArgs, buildArgs, platformArgs(buildPlatform, targetPlatform), expander, ctx);
  const epoch = sourceDateEpoch(buildArgs, globals.values, typed.metaArgs, ctx);

  const set = new StageSet(targetPlatform, new NamedContexts(opts.namedContexts));
  createStages(typed, set, globals.values, expander, ctx, targetPlatform, opts);
  for (const s of set.stages()) collectDeps(s, s.commands, set, expander, ctx);
  const target = pickTarget(set, opts.target);
  checkCycles(set, ctx);
  const reachable = await resolveReachable(set, target, opts, expander, ctx, warnings);
  numberSteps(set, opts.prefixPlatform === true);

  const ctxPaths = new Set<string>();
  const contextName = opts.contextName ?? 'context';
  const excludes = [...(opts.dockerignore ?? [])];
  const context = State.local(contextName, () => ({
    followPaths: normalizeContextPaths(ctxPaths),
    excludePatterns: excludes,
    sharedKeyHint: contextName,
  }), { description: '[internal] load build context' });
  const usedArgs = new Set<string>(globals.declared);
  const dctx: DispatchContext = {
    parse: ctx,
    expander,
    context,
    ctxPaths,
    globals: globals.values,
    buildArgs,
    proxyEnv: proxyEnvFromBuildArgs(buildArgs),
    forceNetwork: opts.forceNetwork,
    extraHosts: opts.extraHosts !== undefined && opts.extraHosts.length > 0 ? opts.extraHosts : undefined,
    ulimits: opts.ulimits !== undefined && opts.ulimits.length > 0 ? opts.ulimits : undefined,
    shmMount: opts.shmSize !== undefined && opts.shmSize > 0 ? { type: 'tmpfs', target: '/dev/shm', size: opts.shmSize } : undefined,
    epoch,
    usedArgs,
    sourceOf: (from, ins, reader) => {
      const token = fromToken(ins, from);
      const src = set.resolveFrom(from, siteOf(ins.node, ctx), expander, token);
      if (!src.dispatched) fail(Diagnostics.stageOrder, [from, reader.id], siteOf(ins.node, ctx), token);
      return src;
    },
  };

  for (const s of set.states) if (s.isPseudo && reachable.has(s)) initPseudoStage(s);
  // The result's config (history included) is the target's, which starts as a copy of its base
  // stage's, and so on down: only those stages record history.
  for (let s: StageState | undefined = target; s !== undefined; s = s.base) s.keepsHistory = true;
  const pacer = new Pacer(opts.signal);
  for (const s of set.states) {
    if (!reachable.has(s) || s.dispatched || s.isPseudo) continue;
    throwIfAborted(opts.signal);
    initStage(s);
    // An index loop with two shared option objects: `entries()` made a pair and the call an
    // options object per instruction.
    const commands = s.commands;
    for (let i = 0; i < commands.length; i++) {
      dispatch(s, commands[i] as StageCommand, dctx, i < s.triggerCount ? ONBUILD : NOT_ONBUILD);
      if (pacer.due()) await pacer.pause();
    }
    s.dispatched = true;
  }

  // The target's config is its own working copy (a stage clones its base's when it starts) and
  // nothing reads it after this: handed over as it is (a structured clone of it, history and all,
  // was a fixed cost of every conversion: ~6 % of converting 100 instructions).
  const image = target.image;
  if (opts.platform !== undefined) {
    // As BuildKit: a requested platform names the result's, whatever its base image's config said
    // (an imported or single-platform base may say amd64). Without one, the base's stays.
    image.os = targetPlatform.os;
    image.architecture = targetPlatform.architecture;
    if (targetPlatform.variant) image.variant = targetPlatform.variant;
    else delete image.variant;
  }
  if (opts.labels && opts.labels.size > 0) image.config.Labels = { ...(image.config.Labels ?? {}), ...Object.fromEntries(opts.labels) };
  const unused = [...buildArgs.keys()].filter((k) => !usedArgs.has(k) && !isPredefinedArg(k)).sort();
  if (unused.length > 0) warnings.push({ code: 'UnusedBuildArgs', message: `one or more build-args [${unused.join(' ')}] were not consumed` });

  const definition = await target.state.marshalAsync({
    sources: [{ filename: ast.file, data: new TextEncoder().encode(joinedLines(ast.lines)) }],
    signal: opts.signal,
  });
  const infos = stageInfos(set, reachable);
  return {
    definition,
    image,
    target: target.id,
    stages: [...infos.values()],
    graph: stageGraph(set, infos, target),
    warnings,
  };
}
