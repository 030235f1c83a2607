/**
 * Why a step executed, in words, from a comparison with the closest earlier record of the same step
 * in the build history: `package.json changed`, `3 files changed (src/a.js, src/b.js, …), 1 added
 * (src/c.js)`, `parent step rebuilt (COPY package.json ./)`, `build arg VERSION changed 1.2 → 1.3`,
 * `alpine:3.4 now resolves to sha256:…`, `instruction text changed`, `--no-cache`, `first build of
 * this Dockerfile`. Pure: the engine gathers the two sides, this decides which difference counts.
 * The first difference along the key's parts wins, in the order a rebuild cascades: cache disabled,
 * no history, the instruction, the base image, the parent, the build args, the files, the rest.
 */
import type { EarlierStep } from '../cache/build-history.js';
import type { FileFingerprint, StepFacts } from '../cache/types.js';
import type { MissReason } from '../solver/types.js';

/** The step about to execute, as the explainer sees it. */
export interface CurrentStep {
  /** The instruction as written (`COPY package.json ./`, `FROM alpine:3.4`). */
  readonly instruction: string;
  /** The reference of a FROM step (undefined for other steps). */
  readonly imageRef: string | undefined;
  readonly parentKey: string | undefined;
  readonly facts: StepFacts;
  /** Context files the key read, sorted by path; undefined when it read none. */
  readonly files: readonly FileFingerprint[] | undefined;
  /** The solver's own reason (ignore-cache, an input that itself missed…). */
  readonly reason: MissReason;
  /** For an `input-changed` reason: that input's instruction as written. */
  readonly inputInstruction?: string;
}

/** File names listed per kind of change before `…`. */
const LISTED = 2;

/** The one-line reason; `dockerfileSeen` says whether any earlier build of this Dockerfile is recorded. */
export function explainMiss(cur: CurrentStep, earlier: EarlierStep | undefined, opts: { readonly dockerfileSeen: boolean }): string {
  if (cur.reason.kind === 'ignore-cache') return '--no-cache';
  if (!opts.dockerfileSeen) return 'first build of this Dockerfile';
  const rebuilt = cur.reason.kind === 'input-changed' ? `parent step rebuilt (${cur.inputInstruction ?? instructionOf(cur.reason.inputName)})` : undefined;
  if (rebuilt !== undefined && (!earlier || earlier.step.instruction === cur.instruction)) return rebuilt;
  if (!earlier) return 'new step: no earlier build ran it';
  const was = earlier.step;
  if (was.instruction !== cur.instruction) return 'instruction text changed';
  if (cur.imageRef !== undefined && cur.facts.imageId !== undefined && was.facts.imageId !== cur.facts.imageId) {
    return `${cur.imageRef} now resolves to ${shortId(cur.facts.imageId)}`;
  }
  if (was.parentKey !== cur.parentKey) return 'parent step changed';
  const args = argChanges(was.facts.args ?? {}, cur.facts.args ?? {});
  if (args) return args;
  const files = fileChanges(earlier.files ?? [], cur.files ?? [], { truncated: was.filesTruncated });
  if (files) return files;
  if (!sameList(was.facts.inputs, cur.facts.inputs)) return 'the files it reads changed';
  if (was.facts.opDigest !== cur.facts.opDigest) return 'instruction options or environment changed';
  // Nothing that goes into the key differs: the earlier run left no result to reuse.
  if (was.outcome === 'failed') return 'same inputs as an earlier build, where this step failed';
  if (was.outcome === 'canceled' || was.outcome === 'skipped') return 'same inputs as an earlier build, where this step did not finish';
  return 'same inputs as an earlier build whose cached result is gone (pruned)';
}

/** `[stage-0 2/5] RUN make` → `RUN make`. */
export function instructionOf(vertexName: string): string {
  return vertexName.replace(/^\[[^\]]*\]\s+/, '');
}

/** `sha256:` and the first 12 hex digits, as image IDs are shown. */
function shortId(id: string): string {
  const m = /^(sha256:)?([0-9a-f]{12})/.exec(id);
  return m ? `sha256:${m[2]}` : id;
}

function argChanges(was: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string | undefined {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(was), ...Object.keys(now)])].sort()) {
    const a = was[k];
    const b = now[k];
    if (a === b) continue;
    if (a === undefined) out.push(`build arg ${k} set to ${b ?? ''}`);
    else if (b === undefined) out.push(`build arg ${k} no longer set (was ${a})`);
    else out.push(`build arg ${k} changed ${a} → ${b}`);
  }
  return out.length > 0 ? out.join(', ') : undefined;
}

function list(paths: readonly string[]): string {
  return paths.length > LISTED ? `${paths.slice(0, LISTED).join(', ')}, …` : paths.join(', ');
}

/**
 * `package.json changed`, or `3 files changed (a, b, …), 1 added (c), 1 removed (d)`; undefined: none
 * found. Both lists are sorted by path. `truncated`: `was` is only the first paths of the earlier
 * list (the history keeps MAX_FILES_PER_STEP of a step's files), so only the paths up to its last
 * are compared: beyond it nothing is known, and the files there are not "added" (a one-file edit of
 * a 100,000-file COPY said "90000 files added", and built maps and sorted lists of them all on the
 * way to the step's run, issue 14).
 */
export function fileChanges(was: readonly FileFingerprint[], now: readonly FileFingerprint[], opts: { readonly truncated?: boolean } = {}): string | undefined {
  const last = opts.truncated === true ? was[was.length - 1]?.[0] : undefined;
  const before = new Map(was.map(([p, f]) => [p, f]));
  const after = new Map((last === undefined ? now : now.slice(0, upTo(now, last))).map(([p, f]) => [p, f]));
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [p, f] of after) {
    const old = before.get(p);
    if (old === undefined) added.push(p);
    else if (old !== f) changed.push(p);
  }
  for (const p of before.keys()) if (!after.has(p)) removed.push(p);
  for (const l of [changed, added, removed]) l.sort();
  if (changed.length === 1 && added.length === 0 && removed.length === 0) return `${changed[0] ?? ''} changed`;
  const clauses: string[] = [];
  const clause = (n: number, verb: string, paths: readonly string[]): void => {
    if (n === 0) return;
    const noun = clauses.length === 0 ? (n === 1 ? ' file' : ' files') : '';
    clauses.push(`${n}${noun} ${verb} (${list(paths)})`);
  };
  clause(changed.length, 'changed', changed);
  clause(added.length, 'added', added);
  clause(removed.length, 'removed', removed);
  return clauses.length > 0 ? clauses.join(', ') : undefined;
}

/** How many of the sorted `list`'s paths are `<= last`. */
function upTo(list: readonly FileFingerprint[], last: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid]?.[0] ?? '') <= last) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
