/**
 * Issue 14's seed-like scenario for one context size N: a Dockerfile with RUN mkdir, three
 * one-file COPYs, `COPY f*` of N one-line files and a last RUN, built by each tool on its own copy
 * of the context. Cold builds (fresh state per run, `--no-cache`), then no-op rebuilds, then
 * rebuilds after one f* file is edited (COPY f* and the last RUN run again), each kind interleaved
 * run by run across tools so load drift on a shared machine hits all of them alike.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BASE_IMAGE } from '../lib/paths.js';
import { median, ratio, seconds, table } from '../lib/report.js';
import type { BuildOutcome, Builder } from '../lib/types.js';

/** One tool under comparison, named as it appears in the tables. */
export interface SeedTool {
  readonly label: string;
  readonly builder: Builder;
}

export interface SeedRuns {
  readonly label: string;
  readonly cold: BuildOutcome[];
  readonly noop: BuildOutcome[];
  readonly change: BuildOutcome[];
}

export interface SeedOptions {
  readonly files: number;
  readonly runs: number;
}

/** Issue 14's targets, tsbuild / Docker. */
export const COLD_TARGET = 1.0;
export function changeTarget(files: number): number {
  return files >= 100_000 ? 0.3 : 0.8;
}

export const SEED_DOCKERFILE = [
  `FROM ${BASE_IMAGE}`,
  'RUN mkdir -p /data/layer',
  'COPY layer1 /data/layer/',
  'COPY layer2 /data/layer/',
  'COPY layer3 /data/layer/',
  'COPY f* /data/files/',
  `RUN echo 'echo "hello"' >> /etc/profile`,
  '',
].join('\n');

/** Writes the seed context: Dockerfile, layer1..3 and f0..f(N-1), one short line each. */
export async function makeSeedContext(dir: string, files: number, signal: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), SEED_DOCKERFILE);
  for (const l of ['layer1', 'layer2', 'layer3']) await writeFile(join(dir, l), `${l}\n`);
  const batch = 500;
  for (let i = 0; i < files; i += batch) {
    signal.throwIfAborted();
    const writes: Promise<void>[] = [];
    for (let j = i; j < Math.min(files, i + batch); j++) writes.push(writeFile(join(dir, `f${j}`), `file ${j}\n`));
    await Promise.all(writes);
  }
}

export async function benchSeed(tools: readonly SeedTool[], work: string, opts: SeedOptions, signal: AbortSignal, log: (s: string) => void): Promise<SeedRuns[]> {
  const ctxOf = (t: SeedTool): string => join(work, `seed-${opts.files}-${t.label.replace(/[^a-z0-9]+/gi, '-')}`);
  for (const t of tools) await makeSeedContext(ctxOf(t), opts.files, signal);
  // Let the files age past the stat cache's racy window so that warm runs can trust them.
  await sleep(2100, undefined, { signal });
  const runs: SeedRuns[] = tools.map((t) => ({ label: t.label, cold: [], noop: [], change: [] }));
  const tag = 'bench-seed';
  const n = opts.files.toLocaleString('en-US');
  for (let i = 0; i < opts.runs; i++) {
    for (const [j, t] of tools.entries()) {
      await t.builder.reset({ signal });
      const o = await t.builder.build({ contextDir: ctxOf(t), tag, noCache: true }, { signal });
      runs[j]?.cold.push(o);
      log(`  ${n} files, ${t.label}: cold build ${i + 1}/${opts.runs} ${seconds(o.wallMs)}`);
    }
  }
  for (let i = 0; i < opts.runs; i++) {
    for (const [j, t] of tools.entries()) {
      const o = await t.builder.build({ contextDir: ctxOf(t), tag }, { signal });
      runs[j]?.noop.push(o);
      log(`  ${n} files, ${t.label}: no-op rebuild ${i + 1}/${opts.runs} ${seconds(o.wallMs)}`);
    }
  }
  const edited = `f${Math.floor(opts.files / 2)}`;
  for (let i = 0; i < opts.runs; i++) {
    for (const [j, t] of tools.entries()) {
      await writeFile(join(ctxOf(t), edited), `file ${edited} edit ${i}\n`);
      const o = await t.builder.build({ contextDir: ctxOf(t), tag }, { signal });
      runs[j]?.change.push(o);
      log(`  ${n} files, ${t.label}: one file changed ${i + 1}/${opts.runs} ${seconds(o.wallMs)}`);
    }
  }
  return runs;
}

/** "2/6": the fewest (want run) or most (no-op) steps any run executed, of the steps reported. */
function stepsRun(os: readonly BuildOutcome[], kind: 'cold' | 'noop' | 'change'): string {
  if (os.length === 0) return '-';
  const ran = os.map((o) => o.steps - o.cachedSteps);
  const total = os[0]?.steps ?? 0;
  switch (kind) {
    case 'noop':
      return Math.max(...ran) === 0 ? `0/${total}` : `${Math.max(...ran)}/${total} (NOT a no-op)`;
    case 'change':
      return Math.min(...ran) === 2 && Math.max(...ran) === 2 ? `2/${total}` : `${Math.min(...ran)}-${Math.max(...ran)}/${total} (want 2)`;
    case 'cold':
      return `${Math.min(...ran)}/${total}`;
  }
}

export function seedReport(runs: readonly SeedRuns[], opts: SeedOptions): string {
  const wall = (os: readonly BuildOutcome[]): number => median(os.map((o) => o.wallMs));
  const exp = (os: readonly BuildOutcome[]): number => median(os.map((o) => o.exportMs ?? Number.NaN));
  const lines = [
    table(
      ['tool', `cold (median of ${opts.runs})`, 'steps run', 'export', 'no-op', 'steps run', 'one file changed', 'steps run', 'export'],
      runs.map((r) => [
        r.label,
        seconds(wall(r.cold)),
        stepsRun(r.cold, 'cold'),
        seconds(exp(r.cold)),
        seconds(wall(r.noop)),
        stepsRun(r.noop, 'noop'),
        seconds(wall(r.change)),
        stepsRun(r.change, 'change'),
        seconds(exp(r.change)),
      ]),
    ),
  ];
  const docker = runs.find((r) => r.label === 'docker');
  if (docker) {
    const verdict = (a: number, b: number, target: number | undefined): string =>
      target === undefined ? ratio(a, b) : `${ratio(a, b)} (≤ ${target.toFixed(1)}x: ${a / b <= target ? 'met' : 'MISSED'})`;
    lines.push('');
    lines.push(table(
      ['tsbuild / docker', 'cold', 'one file changed', 'no-op'],
      runs.filter((r) => r !== docker).map((r) => [
        r.label,
        verdict(wall(r.cold), wall(docker.cold), COLD_TARGET),
        verdict(wall(r.change), wall(docker.change), changeTarget(opts.files)),
        verdict(wall(r.noop), wall(docker.noop), undefined),
      ]),
    ));
  }
  return lines.join('\n');
}
