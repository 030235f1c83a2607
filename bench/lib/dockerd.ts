/**
 * A private Docker daemon for a benchmark run: Debian's dockerd 20.10 with data root, exec root and
 * socket in a short temp dir, no iptables and no bridge (builds use --network=host), and a docker
 * CLI environment pointing only at it (DOCKER_BUILDKIT=1). Same recipe as the tests' helper, kept
 * here because bench code compiles under tsconfig.build.json, which does not include test/.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../../src/util/errors.js';
import { runCommand } from './run-command.js';
import { unmountAndRemove } from './teardown.js';
import { binfmtForDocker, type BinfmtForDocker } from './binfmt-switch.js';

export const DOCKERD_BIN = '/usr/sbin/dockerd';
/** Debian's CLI, matching the daemon (not whatever sits in /usr/local/bin). */
export const DOCKER_BIN = '/usr/bin/docker';

export function haveDocker(): boolean {
  return existsSync(DOCKERD_BIN) && existsSync(DOCKER_BIN);
}

export interface PrivateDockerd {
  /** The environment for docker CLI calls against this daemon. */
  readonly env: NodeJS.ProcessEnv;
  readonly dir: string;
  /** What binfmt_misc was while this daemon ran (binfmt-switch.ts); also printed to stderr at start. */
  readonly binfmtNote: string;
  /** Stops the daemon and its containerd, unmounts what is left, removes the dir. Idempotent. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return true;
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startDockerd(opts: { readonly signal: AbortSignal; readonly startTimeoutMs?: number }): Promise<PrivateDockerd> {
  opts.signal.throwIfAborted();
  // Short: the exec root holds unix sockets whose paths must fit in 108 bytes.
  const dir = await mkdtemp('/tmp/tsbd-');
  const sock = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    DOCKER_HOST: `unix://${sock}`,
    DOCKER_CONFIG: join(dir, 'cli'),
    DOCKER_BUILDKIT: '1',
  };
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  let binfmt: BinfmtForDocker | undefined;
  const stopNow = async (): Promise<void> => {
    if (child && !exited(child)) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, 30_000))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    // dockerd stops its containerd on a clean exit; after a SIGKILL it would linger.
    const pid = Number.parseInt((await readFile(join(dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').catch(() => '')).trim(), 10);
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await unmountAndRemove(dir);
    await binfmt?.restore();
  };
  const stop = (): Promise<void> => (stopped ??= stopNow());

  try {
    binfmt = await binfmtForDocker(opts.signal);
    process.stderr.write(`${binfmt.note}\n`);
    await mkdir(env['DOCKER_CONFIG'] as string);
    await writeFile(join(dir, 'daemon.json'), '{}\n');
    const log = openSync(logFile, 'a');
    try {
      // Own process group: a Ctrl-C must not reach the daemon before the build it serves is stopped.
      child = spawn(DOCKERD_BIN, [
        '--data-root', join(dir, 'data'),
        '--exec-root', join(dir, 'exec'),
        '-H', `unix://${sock}`,
        '--pidfile', join(dir, 'docker.pid'),
        '--config-file', join(dir, 'daemon.json'),
        '--iptables=false',
        '--ip-masq=false',
        '--bridge=none',
      ], { stdio: ['ignore', log, log], env: { PATH: env['PATH'], HOME: env['HOME'] }, detached: true });
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    for (;;) {
      if (exited(child)) throw new TsbuildError('BENCH_DOCKERD_FAILED', `dockerd exited early (${child.exitCode ?? child.signalCode}):\n${(await readFile(logFile, 'utf8')).slice(-3000)}`);
      const r = await runCommand(DOCKER_BIN, ['info', '--format', '{{.ServerVersion}}'], { env, signal: opts.signal, timeoutMs: 10_000 });
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new TsbuildError('BENCH_DOCKERD_FAILED', `dockerd did not answer within ${opts.startTimeoutMs ?? 60_000} ms:\n${(await readFile(logFile, 'utf8')).slice(-3000)}`);
      await sleep(250, undefined, { signal: opts.signal });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, dir, stop, binfmtNote: binfmt.note };
}
