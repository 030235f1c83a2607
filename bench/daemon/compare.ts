/**
 * Rebuilds through the daemon side by side with Docker BuildKit: a Dockerfile that COPYs its whole
 * context and RUNs over it, built once, then rebuilt unchanged N times (no-op) and N times after
 * a one-file edit, the tools interleaved run by run. Each tool builds its own copy of the context
 * (the edits are per tool). Medians, tsbuild / Docker ratios and issue 10's targets.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTree } from '../lib/context-tree.js';
import { BASE_IMAGE } from '../lib/paths.js';
import { bytes, median, ratio, seconds, table } from '../lib/report.js';
import type { BuildOutcome, Builder } from '../lib/types.js';

/** Issue 10's targets, tsbuild / Docker: no-op by context size (largest size not above), and one-file change. */
export function noopTarget(files: number): number {
  return files >= 100_000 ? 0.2 : 0.8;
}
export const CHANGE_TARGET = 0.8;

interface ToolRuns {
  readonly tool: string;
  readonly first: BuildOutcome;
  readonly noop: BuildOutcome[];
  readonly change: BuildOutcome[];
}

function dockerfile(): string {
  return `FROM ${BASE_IMAGE}\nCOPY . /ctx\nRUN find /ctx -type f | wc -l > /ctx-files\n`;
}

export interface CompareOptions {
  readonly files: number;
  readonly runs: number;
  /** Also time rebuilds after a one-file edit. */
  readonly change: boolean;
}

export async function compareSize(builders: readonly Builder[], work: string, opts: CompareOptions, signal: AbortSignal, log: (s: string) => void): Promise<string> {
  const ctxOf = (b: Builder): string => join(work, `ctx-${opts.files}-${b.name}`);
  let size = 0;
  for (const b of builders) {
    await mkdir(ctxOf(b), { recursive: true });
    size = await makeTree(ctxOf(b), opts.files, { signal });
    await writeFile(join(ctxOf(b), 'Dockerfile'), dockerfile());
  }
  // Let the files age past the stat cache's racy window so that warm runs can trust them.
  await sleep(2100, undefined, { signal });
  log(`== context of ${opts.files.toLocaleString('en-US')} files + Dockerfile, ${bytes(size)}`);
  const runs: ToolRuns[] = [];
  for (const b of builders) {
    await b.reset({ signal });
    const first = await b.build({ contextDir: ctxOf(b), tag: 'bench-daemon' }, { signal });
    log(`  ${b.name}: first build ${seconds(first.wallMs)}`);
    runs.push({ tool: b.name, first, noop: [], change: [] });
  }
  for (let i = 0; i < opts.runs; i++) {
    for (const [j, b] of builders.entries()) {
      const o = await b.build({ contextDir: ctxOf(b), tag: 'bench-daemon' }, { signal });
      runs[j]?.noop.push(o);
      log(`  ${b.name}: no-op rebuild ${i + 1}/${opts.runs} ${seconds(o.wallMs)}`);
    }
  }
  if (opts.change) {
    const k = Math.floor(opts.files / 2);
    const file = join(`pkg${Math.floor(k / 10_000)}`, `mod${Math.floor(k / 100) % 100}`, `file${k}.ts`);
    for (let i = 0; i < opts.runs; i++) {
      for (const [j, b] of builders.entries()) {
        await appendFile(join(ctxOf(b), file), `// edit ${i}\n`);
        const o = await b.build({ contextDir: ctxOf(b), tag: 'bench-daemon' }, { signal });
        runs[j]?.change.push(o);
        log(`  ${b.name}: rebuild after a one-file edit ${i + 1}/${opts.runs} ${seconds(o.wallMs)}`);
      }
    }
  }
  return report(runs, opts);
}

function stepsRun(os: readonly BuildOutcome[], wantRun: boolean): string {
  if (os.length === 0) return '-';
  const ran = Math.max(...os.map((o) => o.steps - o.cachedSteps));
  const minRan = Math.min(...os.map((o) => o.steps - o.cachedSteps));
  const total = os[0]?.steps ?? 0;
  if (!wantRun) return ran === 0 ? `0/${total}` : `${ran}/${total} (NOT a no-op)`;
  return minRan > 0 ? `${minRan}/${total}` : `0/${total} (edit NOT seen)`;
}

function report(runs: readonly ToolRuns[], opts: CompareOptions): string {
  const ours = runs.find((r) => r.tool === 'tsbuild');
  const docker = runs.find((r) => r.tool === 'docker');
  const m = (os: readonly BuildOutcome[] | undefined): number | undefined => (os && os.length ? median(os.map((o) => o.wallMs)) : undefined);
  const rows = runs.map((r) => [
    r.tool,
    seconds(r.first.wallMs),
    seconds(m(r.noop)),
    stepsRun(r.noop, false),
    ...(opts.change ? [seconds(m(r.change)), stepsRun(r.change, true)] : []),
  ]);
  const lines = [table(['tool', 'first build', `no-op median (${opts.runs})`, 'steps run', ...(opts.change ? [`1-file edit median (${opts.runs})`, 'steps run'] : [])], rows)];
  if (ours && docker) {
    const verdict = (a: number | undefined, b: number | undefined, target: number): string =>
      a === undefined || b === undefined ? '-' : `${ratio(a, b)} (target ≤ ${target.toFixed(1)}x: ${a / b <= target ? 'met' : 'MISSED'})`;
    lines.push(`tsbuild / docker, no-op: ${verdict(m(ours.noop), m(docker.noop), noopTarget(opts.files))}`);
    if (opts.change) lines.push(`tsbuild / docker, 1-file edit: ${verdict(m(ours.change), m(docker.change), CHANGE_TARGET)}`);
  }
  return lines.join('\n');
}
