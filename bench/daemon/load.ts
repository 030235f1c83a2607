/**
 * The daemon under load: C clients (default 20) start at once, each building one of D Dockerfiles
 * (default 5) that share the base image and their first RUN step, for R rounds (default 3).
 * Checked: every build succeeds; the shared step executes exactly once in round 1 (concurrent
 * builds wait on one execution) and every later round takes every step from the cache; no mount is
 * left under the daemon's data root once a round ends. Printed: per round, the wall time,
 * throughput, p50/p95 client latency and the daemon's RSS (before, peak, after; sampled every
 * 50 ms). Executions are counted from the clients' rawjson progress: builds that share one
 * execution see the same vertex with the same start time, so distinct (vertex, start) pairs of
 * non-cached completions are the executions.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TsbuildError } from '../../src/util/errors.js';
import { BASE_IMAGE } from '../lib/paths.js';
import { bytes, seconds, table } from '../lib/report.js';
import { mountsUnder } from '../lib/teardown.js';
import type { DaemonBuilder } from './daemon-builder.js';

export interface LoadOptions {
  readonly clients: number;
  readonly dockerfiles: number;
  readonly rounds: number;
  /** Seconds the shared step sleeps (long enough that all clients ask for it while it runs). */
  readonly sharedSleep: number;
}

export interface RoundFigures {
  readonly round: number;
  readonly wallMs: number;
  readonly latencies: readonly number[];
  readonly failures: readonly string[];
  readonly sharedExecutions: number;
  readonly variantExecutions: number;
  /** Builds in which some step was not CACHED (rounds after the first must have none). */
  readonly buildsNotFullyCached: number;
  readonly leakedMounts: readonly string[];
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly rssAfter: number;
}

interface VertexEvent {
  readonly type?: string;
  readonly name?: string;
  readonly digest?: string;
  readonly state?: string;
  readonly started?: number;
}

/** The numbered Dockerfile steps of one client's rawjson: executions (digest@start) and whether all were cached. */
function stepsOf(stderr: string): { readonly executed: Map<string, string>; readonly allCached: boolean; readonly steps: number } {
  const executed = new Map<string, string>();
  const cached = new Set<string>();
  const seen = new Set<string>();
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{"type":"vertex"')) continue;
    const ev = JSON.parse(line) as VertexEvent;
    if (ev.name === undefined || ev.digest === undefined || !/^\[\d+\/\d+\] (RUN|COPY)/.test(ev.name)) continue;
    seen.add(ev.digest);
    if (ev.state === 'cached') cached.add(ev.digest);
    if (ev.state === 'completed') executed.set(`${ev.digest}@${ev.started ?? 0}`, ev.name);
  }
  return { executed, allCached: seen.size > 0 && cached.size === seen.size, steps: seen.size };
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

export async function runLoad(b: DaemonBuilder, work: string, opts: LoadOptions, signal: AbortSignal, log: (s: string) => void): Promise<RoundFigures[]> {
  // A fresh nonce: round 1 is cold even if the daemon built something similar before.
  const nonce = randomBytes(6).toString('hex');
  const contexts: string[] = [];
  for (let d = 0; d < opts.dockerfiles; d++) {
    const ctx = join(work, `ctx-load-${d}`);
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'app.txt'), `app ${d}\n`);
    await writeFile(
      join(ctx, 'Dockerfile'),
      `FROM ${BASE_IMAGE}\nRUN echo shared-${nonce} > /shared && sleep ${opts.sharedSleep}\nCOPY app.txt /app.txt\nRUN echo variant-${d}-${nonce} > /variant\n`,
    );
    contexts.push(ctx);
  }
  // Every client process listens on the run's signal (to stop it on Ctrl-C).
  setMaxListeners(opts.clients + 16, signal);
  const rounds: RoundFigures[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const rssBefore = await b.daemon.rssBytes();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      void b.daemon.rssBytes().then((r) => (rssPeak = Math.max(rssPeak, r)));
    }, 50);
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: opts.clients }, (_, i) => {
        const ctx = contexts[i % opts.dockerfiles] as string;
        return b.client(b.buildArgs({ contextDir: ctx, tag: `bench-load-${i}` }, join(work, `load-meta-${i}.json`)), { signal });
      }),
    );
    const wallMs = performance.now() - t0;
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, await b.daemon.rssBytes());
    const failures = results.flatMap((r, i) => (r.code === 0 ? [] : [`client ${i}: exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`]));
    const executions = new Map<string, string>();
    let notCached = 0;
    for (const r of results) {
      const s = stepsOf(r.stderr);
      for (const [k, name] of s.executed) executions.set(k, name);
      if (!s.allCached) notCached++;
    }
    const names = [...executions.values()];
    const figures: RoundFigures = {
      round,
      wallMs,
      latencies: results.map((r) => r.wallMs),
      failures,
      sharedExecutions: names.filter((n) => n.includes(`shared-${nonce}`)).length,
      variantExecutions: names.filter((n) => n.includes('variant-')).length,
      buildsNotFullyCached: notCached,
      leakedMounts: await mountsUnder(b.root),
      rssBefore,
      rssPeak,
      rssAfter: await b.daemon.rssBytes(),
    };
    rounds.push(figures);
    log(`  round ${round}: ${opts.clients} builds in ${seconds(wallMs)}, ${opts.clients - failures.length} ok, shared step executed ${figures.sharedExecutions}x`);
    for (const f of failures) log(`    ${f}`);
  }
  return rounds;
}

/** The printed table, and the problems (empty when the load test passed). */
export function loadReport(rounds: readonly RoundFigures[], opts: LoadOptions): { readonly text: string; readonly problems: string[] } {
  const problems: string[] = [];
  const rows = rounds.map((r) => {
    const n = r.latencies.length;
    if (r.failures.length > 0) problems.push(`round ${r.round}: ${r.failures.length} build(s) failed`);
    if (r.round === 1 && r.sharedExecutions !== 1) problems.push(`round 1: the shared step executed ${r.sharedExecutions} times (want 1)`);
    if (r.round > 1 && r.buildsNotFullyCached > 0) problems.push(`round ${r.round}: ${r.buildsNotFullyCached} build(s) ran a step (want all CACHED)`);
    if (r.leakedMounts.length > 0) problems.push(`round ${r.round}: mounts left under the data root: ${r.leakedMounts.join(', ')}`);
    return [
      String(r.round),
      `${n - r.failures.length}/${n}`,
      seconds(r.wallMs),
      `${((n / r.wallMs) * 1000).toFixed(1)}/s`,
      seconds(percentile(r.latencies, 50)),
      seconds(percentile(r.latencies, 95)),
      `${r.sharedExecutions}`,
      `${r.variantExecutions}`,
      `${n - r.buildsNotFullyCached}/${n}`,
      String(r.leakedMounts.length),
      `${bytes(r.rssBefore)} / ${bytes(r.rssPeak)} / ${bytes(r.rssAfter)}`,
    ];
  });
  // Bounded: after round 1 has filled the caches, later rounds must not keep growing the daemon.
  const first = rounds[0];
  const last = rounds[rounds.length - 1];
  if (first && last && last !== first && last.rssPeak > first.rssPeak * 1.5) {
    problems.push(`daemon RSS grew from a ${bytes(first.rssPeak)} peak in round 1 to ${bytes(last.rssPeak)} in round ${last.round}`);
  }
  const text = table(
    ['round', 'ok', 'wall', 'builds/s', 'p50', 'p95', 'shared step ran', `variant steps ran (${opts.dockerfiles})`, 'all CACHED', 'mounts left', 'daemon RSS before / peak / after'],
    rows,
  );
  return { text, problems };
}

export function assertLoadOptions(o: LoadOptions): void {
  if (o.dockerfiles > o.clients) throw new TsbuildError('BENCH_BAD_FLAGS', `--dockerfiles (${o.dockerfiles}) cannot exceed --clients (${o.clients})`);
}
