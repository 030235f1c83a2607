/**
 * Client start-up: `node -e 0` (the floor), `tsbuild --version`, and a no-op `tsbuild build`
 * through the daemon of a tiny context (one small file), tsbuild run as the installed bin (the
 * launcher file itself, started by its `#!` line, as npm links it), each run N times, interleaved so load
 * drift on a shared machine hits all three alike; medians and the excess over `node -e 0`, which
 * issue 10 wants within 40 ms. When /usr/bin/time is installed each command runs under it and
 * the CPU time (user + system, all threads) is printed too: on a shared, loaded machine it moves
 * far less than wall time.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE_IMAGE } from '../lib/paths.js';
import { median, seconds, table } from '../lib/report.js';
import { runOk } from '../lib/run-command.js';
import { childEnv } from './daemon-builder.js';
import type { DaemonBuilder } from './daemon-builder.js';

export const STARTUP_BUDGET_MS = 40;

const TIME_BIN = '/usr/bin/time';

type Command = 'nodeMs' | 'versionMs' | 'noopBuildMs';

/** Medians: wall time, and CPU time when /usr/bin/time is there. */
export type StartupFigures = Readonly<Record<Command, { readonly wallMs: number; readonly cpuMs: number | undefined }>>;

export async function measureStartup(b: DaemonBuilder, work: string, runs: number, signal: AbortSignal): Promise<StartupFigures> {
  const ctx = join(work, 'ctx-startup');
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY hello.txt /hello.txt\n`);
  await writeFile(join(ctx, 'hello.txt'), 'hello\n');
  await b.build({ contextDir: ctx, tag: 'bench-startup' }, { signal });
  const env = childEnv();
  // tsbuild runs as the installed bin does: the file itself (its `#!` line starts node).
  const cmds: Record<Command, readonly string[]> = {
    nodeMs: [process.execPath, '-e', '0'],
    versionMs: [b.cli, '--version'],
    noopBuildMs: [b.cli, '--addr', b.daemon.addr, 'build', '--quiet', '--network=host', '-t', 'bench-startup', ctx],
  };
  const keys = Object.keys(cmds) as Command[];
  const timed = existsSync(TIME_BIN);
  const timeFile = join(work, 'startup-time.txt');
  const once = async (k: Command): Promise<{ wallMs: number; cpuMs: number | undefined }> => {
    const [file, ...args] = cmds[k] as [string, ...string[]];
    if (!timed) return { wallMs: (await runOk(file, args, { signal, env })).wallMs, cpuMs: undefined };
    const r = await runOk(TIME_BIN, ['-f', '%U %S', '-o', timeFile, file, ...args], { signal, env });
    const [user, sys] = (await readFile(timeFile, 'utf8')).trim().split(/\s+/).map(Number);
    return { wallMs: r.wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
  };
  const wall: Record<Command, number[]> = { nodeMs: [], versionMs: [], noopBuildMs: [] };
  const cpu: Record<Command, number[]> = { nodeMs: [], versionMs: [], noopBuildMs: [] };
  // One warm-up round: the page cache, the daemon's stat cache, the client's digest cache.
  for (const k of keys) await once(k);
  for (let i = 0; i < runs; i++) {
    for (const k of keys) {
      const r = await once(k);
      wall[k].push(r.wallMs);
      if (r.cpuMs !== undefined) cpu[k].push(r.cpuMs);
    }
  }
  const fig = (k: Command): { wallMs: number; cpuMs: number | undefined } => ({ wallMs: median(wall[k]), cpuMs: timed ? median(cpu[k]) : undefined });
  return { nodeMs: fig('nodeMs'), versionMs: fig('versionMs'), noopBuildMs: fig('noopBuildMs') };
}

export function startupTable(f: StartupFigures, runs: number): string {
  const row = (name: string, k: Command): string[] => {
    const over = f[k].wallMs - f.nodeMs.wallMs;
    const cpuOver = f[k].cpuMs !== undefined && f.nodeMs.cpuMs !== undefined ? f[k].cpuMs - f.nodeMs.cpuMs : undefined;
    const base = k === 'nodeMs';
    return [
      name,
      seconds(f[k].wallMs),
      base ? '-' : `+${over.toFixed(0)} ms`,
      base ? '-' : over <= STARTUP_BUDGET_MS ? 'yes' : 'NO',
      f[k].cpuMs === undefined ? '-' : seconds(f[k].cpuMs),
      base || cpuOver === undefined ? '-' : `+${cpuOver.toFixed(0)} ms`,
    ];
  };
  return table(
    [`command (median of ${runs}, interleaved)`, 'wall', 'over node -e 0', `within ${STARTUP_BUDGET_MS} ms`, 'cpu', 'cpu over node -e 0'],
    [row('node -e 0', 'nodeMs'), row('tsbuild --version', 'versionMs'), row('tsbuild build (no-op, daemon)', 'noopBuildMs')],
  );
}
