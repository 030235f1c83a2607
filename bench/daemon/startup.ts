/**
 * Client start-up: `node -e 0` (the floor), `tsbuild --version`, and a no-op `tsbuild build`
 * through the daemon of a tiny context (one small file), each run N times, interleaved so load
 * drift on a shared machine hits all three alike; medians and the excess over `node -e 0`, which
 * issue 10 wants within 40 ms.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE_IMAGE } from '../lib/paths.js';
import { median, seconds, table } from '../lib/report.js';
import { runOk } from '../lib/run-command.js';
import { childEnv } from './daemon-builder.js';
import type { DaemonBuilder } from './daemon-builder.js';

export const STARTUP_BUDGET_MS = 40;

export interface StartupFigures {
  readonly nodeMs: number;
  readonly versionMs: number;
  readonly noopBuildMs: number;
}

export async function measureStartup(b: DaemonBuilder, work: string, runs: number, signal: AbortSignal): Promise<StartupFigures> {
  const ctx = join(work, 'ctx-startup');
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\n`);
  await writeFile(join(ctx, 'hello.txt'), 'hello\n');
  await b.build({ contextDir: ctx, tag: 'bench-startup' }, { signal });
  const env = childEnv();
  const cmds: Record<keyof StartupFigures, readonly string[]> = {
    nodeMs: ['-e', '0'],
    versionMs: [b.cli, '--version'],
    noopBuildMs: [b.cli, '--addr', b.daemon.addr, 'build', '--quiet', '--network=host', '-t', 'bench-startup', ctx],
  };
  const times: Record<keyof StartupFigures, number[]> = { nodeMs: [], versionMs: [], noopBuildMs: [] };
  // One warm-up round: the page cache and the daemon's stat cache.
  for (const k of Object.keys(cmds) as (keyof StartupFigures)[]) await runOk(process.execPath, cmds[k], { signal, env });
  for (let i = 0; i < runs; i++) {
    for (const k of Object.keys(cmds) as (keyof StartupFigures)[]) {
      const r = await runOk(process.execPath, cmds[k], { signal, env });
      times[k].push(r.wallMs);
    }
  }
  return { nodeMs: median(times.nodeMs), versionMs: median(times.versionMs), noopBuildMs: median(times.noopBuildMs) };
}

export function startupTable(f: StartupFigures, runs: number): string {
  const row = (name: string, ms: number): string[] => {
    const over = ms - f.nodeMs;
    return [name, seconds(ms), name === 'node -e 0' ? '-' : `+${over.toFixed(0)} ms`, name === 'node -e 0' ? '-' : over <= STARTUP_BUDGET_MS ? 'yes' : 'NO'];
  };
  return table(
    [`command (median of ${runs}, interleaved)`, 'wall', 'over node -e 0', `within ${STARTUP_BUDGET_MS} ms`],
    [row('node -e 0', f.nodeMs), row('tsbuild --version', f.versionMs), row('tsbuild build (no-op, daemon)', f.noopBuildMs)],
  );
}
