/**
 * The stage graph: which stage reads which (FROM <stage>, COPY --from, RUN --mount from=), image
 * pseudo-stages for `COPY --from=<image>`, cycle detection with a readable path, and the set of
 * stages reachable from the target — the only ones converted.
 */
import { alg, Graph } from '@dagrejs/graphlib';
import { normalizeImageRef } from '../../../oci/reference.js';
import type { LLBPlatform } from '../../../llb/types.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import type { ErrorSite } from '../instructions/diagnostics.js';
import type { Instruction, StageCommand } from '../instructions/instruction.js';
import { siteOf } from '../instructions/site.js';
import type { ParseContext } from '../instructions/site.js';
import type { StageEdge, StageInfo } from '../../types.js';
import type { Expander } from './expand.js';
import { emptyImage } from './image-config.js';
import { NamedContexts } from './named-contexts.js';
import { StageState } from './stage-state.js';

export class StageSet {
  /** Registered stages in Dockerfile order, then pseudo-stages in order of first use. */
  readonly states: StageState[] = [];
  private readonly byName = new Map<string, StageState>();
  private readonly pseudo = new Map<string, StageState>();
  private registered = 0;

  constructor(
    private readonly targetPlatform: LLBPlatform,
    /** The build's `--build-context` entries. */
    readonly contexts: NamedContexts = new NamedContexts(undefined),
  ) {}

  add(s: StageState): void {
    this.states.push(s);
    this.registered++;
    if (s.def?.name !== undefined) this.byName.set(s.def.name, s);
  }

  named(name: string): StageState | undefined {
    return this.byName.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Registered stages only. */
  stages(): StageState[] {
    return this.states.slice(0, this.registered);
  }

  /**
   * The pseudo-stage for an image read by COPY --from / --mount from=; `at`, the instruction that
   * first reads it, is where a failure to pull it is reported.
   */
  imageStage(ref: string, at?: ErrorSite): StageState {
    const norm = normalizeImageRef(ref);
    let s = this.pseudo.get(norm);
    if (!s) {
      s = new StageState({ def: undefined, id: `image:${norm}`, metaStage: '', baseName: ref, platform: this.targetPlatform, image: emptyImage(this.targetPlatform) });
      if (at) s.firstUse = { startLine: at.line, endLine: at.endLine ?? at.line, column: at.column };
      s.context = this.contexts.find(ref, this.targetPlatform);
      this.pseudo.set(norm, s);
      this.states.push(s);
    }
    return s;
  }

  /** Resolves a `--from` value: stage index, stage name, else an image. */
  resolveFrom(from: string, at: ErrorSite, expander: Expander, token?: string): StageState {
    if (expander.word(from, () => undefined, at) !== from) {
      fail(Diagnostics.badFlag, ['variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround'], at, token);
    }
    if (/^[0-9]+$/.test(from)) {
      const s = this.stages()[Number(from)];
      if (!s) fail(Diagnostics.badStageIndex, [from], at, token);
      return s;
    }
    const named = this.named(from);
    if (named) return named;
    try {
      return this.imageStage(from, at);
    } catch (e) {
      return fail(Diagnostics.badSource, [`--from=${from} is neither a stage nor a valid image reference: ${(e as Error).message}`], at, token);
    }
  }
}

/** The text to point at for an instruction that reads stage `src`: its `--from=…` or mount `from=…`. */
export function fromToken(ins: Instruction, src: StageState | string): string | undefined {
  const matches = (from: string): boolean => (typeof src === 'string' ? from === src : from.toLowerCase() === src.def?.name || from === String(src.def?.index) || `image:${from}` === src.id || src.baseName === from);
  if (ins.kind === 'COPY' && ins.from !== undefined && matches(ins.from)) return `--from=${ins.from}`;
  if (ins.kind === 'RUN') {
    const m = ins.mounts.find((x) => x.mount.from !== undefined && matches(x.mount.from));
    if (m?.mount.from !== undefined) return `from=${m.mount.from}`;
  }
  return undefined;
}

/** Records the stages `commands` read into `s.deps`. Returns true when a new dependency appeared. */
export function collectDeps(s: StageState, commands: readonly StageCommand[], set: StageSet, expander: Expander, ctx: ParseContext): boolean {
  let added = false;
  const dep = (from: string, ins: Instruction): void => {
    const src = set.resolveFrom(from, siteOf(ins.node, ctx), expander, fromToken(ins, from));
    if (!s.deps.has(src)) {
      s.deps.set(src, ins);
      added = true;
    }
  };
  for (const c of commands) {
    if (c.kind === 'COPY' && c.from !== undefined) dep(c.from, c);
    if (c.kind === 'RUN') {
      for (const m of c.mounts) {
        if (m.mount.from !== undefined && (m.mount.type === 'bind' || m.mount.type === 'cache')) dep(m.mount.from, c);
      }
    }
  }
  return added;
}

/** Fails with the first cycle found, naming its path and pointing at the instruction that closes it. */
export function checkCycles(set: StageSet, ctx: ParseContext): void {
  const g = new Graph({ directed: true });
  for (const s of set.states) g.setNode(s.id);
  for (const s of set.states) {
    if (s.base) g.setEdge(s.id, s.base.id);
    for (const d of s.deps.keys()) g.setEdge(s.id, d.id);
  }
  const first = alg.findCycles(g)[0];
  if (!first) return;
  const members = new Set(first);
  // Walk reader → source edges inside the cycle, from its earliest stage back to it.
  const start = set.states.find((s) => members.has(s.id)) as StageState;
  const path: StageState[] = [start];
  const seen = new Set<StageState>([start]);
  let closing: { ins: Instruction; source: StageState } | undefined;
  for (let cur = start; ;) {
    const next = [...(cur.base ? [cur.base] : []), ...cur.deps.keys()].find((n) => members.has(n.id) && (n === start || !seen.has(n)));
    if (!next) break;
    const ins = next === cur.base ? undefined : cur.deps.get(next);
    if (ins && !closing) closing = { ins, source: next };
    path.push(next);
    if (next === start) break;
    seen.add(next);
    cur = next;
  }
  const ins = closing?.ins ?? start.def?.from;
  const at: ErrorSite = ins ? siteOf(ins.node, ctx) : { file: ctx.file, lines: ctx.lines, line: 1, column: 1 };
  fail(Diagnostics.cycle, [path.map((p) => p.id).join(' -> ')], at, closing ? fromToken(closing.ins, closing.source) : undefined);
}

/** The target and every stage it reads, transitively. */
export function reachableFrom(target: StageState): Set<StageState> {
  const out = new Set<StageState>();
  const stack = [target];
  while (stack.length > 0) {
    const s = stack.pop() as StageState;
    if (out.has(s)) continue;
    out.add(s);
    if (s.base) stack.push(s.base);
    for (const d of s.deps.keys()) stack.push(d);
  }
  return out;
}

/** The stage graph returned to callers: edges from the stage read to the stage reading it. */
export function stageGraph(set: StageSet, infos: ReadonlyMap<StageState, StageInfo>, target: StageState): Graph<string, StageInfo | undefined, StageEdge> {
  const g = new Graph<string, StageInfo | undefined, StageEdge>({ directed: true, multigraph: false });
  g.setGraph(target.id);
  for (const s of set.states) g.setNode(s.id, infos.get(s));
  for (const s of set.states) {
    if (s.base) g.setEdge(s.base.id, s.id, { kind: 'base' });
    for (const [d, ins] of s.deps) g.setEdge(d.id, s.id, { kind: ins.kind === 'RUN' ? 'mount' : 'copy' });
  }
  return g;
}
