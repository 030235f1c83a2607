/**
 * Reading each tool's progress output into the same figures: the time of the export step and how
 * many Dockerfile steps ran or came from the cache. FROM is not counted (Docker never marks it
 * cached); Buildah also counts CMD-like steps that BuildKit does not number, so step totals differ
 * between tools, and a no-op rebuild shows as "0 run" for each.
 */
import type { CommandResult, OutputLine } from './run-command.js';

export interface ParsedProgress {
  readonly exportMs: number | undefined;
  readonly steps: number;
  readonly cachedSteps: number;
}

/** A numbered Dockerfile step of BuildKit (`[ 2/14] COPY …`, `[stage-1 3/5] RUN …`). */
const STEP_NAME = /^\[[^\]]*\d+\/\d+\]\s+(\S+)/;

function isCountedStep(name: string): boolean {
  const m = STEP_NAME.exec(name);
  return m !== null && m[1]?.toUpperCase() !== 'FROM';
}

interface RawVertexEvent {
  readonly type?: string;
  readonly name?: string;
  readonly digest?: string;
  readonly state?: string;
  readonly started?: number;
  readonly completed?: number;
}

/** tsbuild `--progress=rawjson` (stderr): one JSON event per line. */
export function parseTsbuildRawJson(stderr: string): ParsedProgress {
  const steps = new Map<string, boolean>();
  let exportMs: number | undefined;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{"type":"vertex"')) continue;
    const ev = JSON.parse(line) as RawVertexEvent;
    if (ev.name === undefined || ev.digest === undefined) continue;
    if (ev.name.startsWith('exporting to ') && ev.state === 'completed' && ev.started !== undefined && ev.completed !== undefined) {
      exportMs = ev.completed - ev.started;
    }
    if (isCountedStep(ev.name)) steps.set(ev.digest, (steps.get(ev.digest) ?? false) || ev.state === 'cached');
  }
  return { exportMs, steps: steps.size, cachedSteps: [...steps.values()].filter(Boolean).length };
}

/** Docker BuildKit `--progress=plain` (stderr): `#N name`, `#N CACHED`, `#N DONE 1.2s`. */
export function parseDockerPlain(stderr: string): ParsedProgress {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  const done = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const id = m[1] as string;
    const rest = m[2] as string;
    if (!names.has(id) && !rest.startsWith('sha256:')) names.set(id, rest);
    if (rest === 'CACHED') cached.add(id);
    const d = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest);
    if (d) done.set(id, Number(d[1]) * 1000);
  }
  let exportMs: number | undefined;
  let steps = 0;
  let cachedSteps = 0;
  for (const [id, name] of names) {
    if (name === 'exporting to image' || name.startsWith('exporting to ')) exportMs = done.get(id) ?? exportMs;
    if (!isCountedStep(name)) continue;
    steps++;
    if (cached.has(id)) cachedSteps++;
  }
  return { exportMs, steps, cachedSteps };
}

/**
 * Buildah bud output (stdout): `STEP i/n: INSTR …`, `--> Using cache …` for a cached step, and a
 * `COMMIT name` line once the last step has run; the export is that line to process exit.
 */
export function parseBuildahOutput(result: Pick<CommandResult, 'lines' | 'wallMs'>): ParsedProgress {
  let steps = 0;
  let cachedSteps = 0;
  let current: 'counted' | 'skipped' | undefined;
  let commitAt: number | undefined;
  for (const l of result.lines as readonly OutputLine[]) {
    const step = /^STEP \d+\/\d+: (\S+)/.exec(l.text);
    if (step) {
      current = step[1]?.toUpperCase() === 'FROM' ? 'skipped' : 'counted';
      if (current === 'counted') steps++;
      continue;
    }
    if (l.text.startsWith('--> Using cache ') && current === 'counted') cachedSteps++;
    if (commitAt === undefined && /^COMMIT\b/.test(l.text)) commitAt = l.at;
  }
  return { exportMs: commitAt === undefined ? undefined : result.wallMs - commitAt, steps, cachedSteps };
}
