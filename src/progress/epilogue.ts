/** What every renderer but rawjson prints when a build's display closes. */
import { formatSeconds } from './format.js';
import type { Trace, TraceVertex } from './trace.js';

/** BuildKit's failure excerpt: the last log lines of each failed step between `------` rules. */
export function errorBoxes(trace: Trace): string {
  let out = '';
  for (const v of trace.vertices.values()) {
    if (v.error === undefined) continue;
    trace.flushPartial(v);
    out += `------\n > ${v.name}:\n`;
    for (const l of v.lastLines) out += `${l}\n`;
    out += '------\n';
  }
  return out;
}

/** The warnings of the build, listed once at the end as docker buildx does. */
export function warningList(trace: Trace): string {
  const n = trace.warnings.length;
  if (n === 0) return '';
  let out = `${n} warning${n === 1 ? '' : 's'} found:\n`;
  for (const w of trace.warnings) {
    const at = w.location ? ` (${w.location.file}:${w.location.line})` : '';
    out += ` - ${w.message}${at}\n`;
    for (const d of w.detail ?? []) out += `   ${d}\n`;
  }
  return out;
}

export interface StepCounts {
  readonly total: number;
  readonly cached: number;
  readonly executed: number;
  readonly failed: number;
  readonly canceled: number;
  readonly running: number;
}

/**
 * `[internal] …` (also `[linux/arm64 internal] …` when several platforms are built), `exporting …`,
 * and a `--build-context`'s metadata lookup and directory load (`[context NAME] load metadata
 * for …`, `[context NAME] load from client`).
 */
const BOOKKEEPING = /^(?:\[(?:[^\]\s]+ )?internal\] |exporting |\[context [^\]]+\] load (?:metadata for |from client$))/;

/**
 * Engine bookkeeping (`[internal] load build context`, `exporting to image`) is shown like any step
 * but is not a build step: it always runs, so counting it would hide a fully cached rebuild.
 */
export function isBookkeeping(name: string): boolean {
  return BOOKKEEPING.test(name);
}

export function countSteps(trace: Trace): StepCounts {
  const all = [...trace.vertices.values()].filter((v) => !isBookkeeping(v.name));
  const is = (f: (v: TraceVertex) => boolean): number => all.filter(f).length;
  return {
    total: all.length,
    cached: is((v) => v.cached),
    executed: is((v) => trace.isCompleted(v) && !v.cached && v.error === undefined && !v.canceled),
    failed: is((v) => v.error !== undefined),
    canceled: is((v) => v.canceled),
    running: is((v) => !trace.isCompleted(v)),
  };
}

/**
 * The first step that missed the cache, and why: everything after it in its chain re-ran because
 * of it (`first cache miss: [4/6] COPY layer2 /data/layer: no cache record: …`). Only for builds
 * the cache partly answered: when every step came from the cache there is no miss, and when none
 * did (a first build, --no-cache) "where did the cache break" has no answer worth a line.
 */
export function firstMissLine(trace: Trace): string {
  let first: TraceVertex | undefined;
  let anyCached = false;
  for (const v of trace.vertices.values()) {
    if (isBookkeeping(v.name)) continue;
    if (v.cached) anyCached = true;
    if (v.cacheMiss === undefined || v.cached) continue;
    if (first === undefined || (v.intervals[0]?.start ?? Infinity) < (first.intervals[0]?.start ?? Infinity)) first = v;
  }
  return first === undefined || !anyCached ? '' : `first cache miss: ${first.name}: ${first.cacheMiss}\n`;
}

/** `steps: 9 total, 7 cached, 2 executed in 2.1s` (failed/canceled counts only when non-zero). */
export function summaryLine(trace: Trace, now: number): string {
  const c = countSteps(trace);
  let s = `steps: ${c.total} total, ${c.cached} cached, ${c.executed} executed`;
  if (c.failed > 0) s += `, ${c.failed} failed`;
  if (c.canceled > 0) s += `, ${c.canceled} canceled`;
  const elapsed = trace.first === undefined ? 0 : now - trace.first;
  return `${s} in ${formatSeconds(elapsed)}\n`;
}
