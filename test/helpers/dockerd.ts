/**
 * A private Docker daemon for tests: Debian's dockerd (20.10) with its data root, exec root and
 * socket in a short temp dir, no iptables and no bridge (builds use --network=host), its own
 * containerd, and a docker CLI environment pointing only at it. One per test file: start it in
 * beforeAll, stop it in afterAll; stop() unmounts whatever the daemon left under its dir before
 * removing it. A watchdog does the same if the test process dies without stopping it.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKERD_BIN, DOCKER_BIN, isRoot } from './requirements.mjs';

export { DOCKERD_BIN, DOCKER_BIN };
export const haveDockerd = isRoot && existsSync(DOCKERD_BIN) && existsSync(DOCKER_BIN);
export const dockerdMissingWhy = isRoot
  ? `needs ${DOCKERD_BIN} and ${DOCKER_BIN} (Debian package docker.io)`
  : 'needs root to run dockerd';

export interface DockerResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DockerRunOptions {
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  /** Extra environment (on top of the daemon's docker environment). */
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the command after this long. Default 5 minutes. */
  readonly timeoutMs?: number;
}

/** A docker command that failed; the message carries the command and the end of its stderr. */
export class DockerCommandError extends Error {
  readonly code = 'DOCKER_COMMAND_FAILED';
  constructor(readonly args: readonly string[], readonly result: DockerResult) {
    const tail = result.stderr.trimEnd().split('\n').slice(-40).join('\n');
    super(`docker ${args.join(' ')} exited with ${result.code ?? result.signal}:\n${tail}`);
    this.name = 'DockerCommandError';
  }
}

export interface Dockerd {
  /** The temp dir holding everything the daemon owns. */
  readonly dir: string;
  /** `unix:///…/docker.sock`. */
  readonly host: string;
  /** The environment for docker CLI calls against this daemon (BuildKit on). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs the docker CLI against this daemon. */
  docker(args: readonly string[], opts?: DockerRunOptions): Promise<DockerResult>;
  /** Like docker(), but throws a DockerCommandError unless it exits 0; returns stdout. */
  dockerOk(args: readonly string[], opts?: DockerRunOptions): Promise<string>;
  /** The daemon's log so far. */
  logs(): Promise<string>;
  /** Stops the daemon and its containerd, unmounts what is left under dir, removes dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartDockerdOptions {
  readonly signal?: AbortSignal;
  /** How long to wait for `docker info` to answer. Default 60 s. */
  readonly startTimeoutMs?: number;
}

function runDocker(env: NodeJS.ProcessEnv, args: readonly string[], opts: DockerRunOptions): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    opts.signal?.throwIfAborted();
    const child = spawn(DOCKER_BIN, args, { cwd: opts.cwd, env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, opts.timeoutMs ?? 300_000);
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      if (opts.signal?.aborted) {
        reject(opts.signal.reason);
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Mount points at or below dir, deepest first (mountinfo escapes spaces and friends in octal). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info.split('\n').map((l) => l.split(' ')[4] ?? '').map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return [...new Set(points.filter((p) => p === dir || p.startsWith(`${dir}/`)))].sort((a, b) => b.length - a.length);
}

function umount(args: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile('umount', args, () => resolve());
  });
}

/**
 * Unmounts everything at or below dir (deepest first, lazily when a plain unmount fails), then
 * removes it; refuses to remove a dir that still has mounts, so a removal never reaches through a
 * bind mount. Also for other tools' data roots (tsbuild's) that a crash may leave mounted.
 */
export async function unmountAndRemove(dir: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) await umount(round === 0 ? [p] : ['-l', p]);
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`cleanup: still mounted under ${dir}: ${left.join(', ')}`);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Runs the daemon (`$2…`) under a watchdog holding a pipe from the test process on its stdin. A
 * SIGTERM is passed on to the daemon. If the test process dies without calling stop() (jest killed
 * on a timeout, say), the pipe reaches EOF and the watchdog tears everything down by itself:
 * SIGTERM (SIGKILL after 30 s) to the daemon and its containerd, then unmounts and removes `$1`.
 */
export const WATCHDOG_SCRIPT = `
set -u
dir=$1; shift
"$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
exec 3<&0
( cat <&3 >/dev/null
  : >"$dir/.orphaned"
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 1; done
  kill -KILL "$pid" 2>/dev/null ) &
watcher=$!
exec 3<&-
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; done
kill "$watcher" 2>/dev/null
if [ -e "$dir/.orphaned" ]; then
  c=$(cat "$dir/exec/containerd/containerd.pid" 2>/dev/null || true)
  [ -n "$c" ] && kill -TERM "$c" 2>/dev/null && sleep 2 && kill -KILL "$c" 2>/dev/null
  for _ in 1 2 3; do
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  done
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit f }' /proc/self/mountinfo && rm -rf "$dir"
fi
`;

/** Starts a private dockerd and waits until `docker info` answers. */
export async function startDockerd(opts: StartDockerdOptions = {}): Promise<Dockerd> {
  opts.signal?.throwIfAborted();
  // Short: the exec root holds unix sockets whose paths must fit in 108 bytes.
  const dir = await mkdtemp('/tmp/tsd-');
  const sock = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: `unix://${sock}`,
    DOCKER_CONFIG: join(dir, 'cli'),
    DOCKER_BUILDKIT: '1',
    BUILDKIT_PROGRESS: 'plain',
  };
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;

  const stopNow = async (): Promise<void> => {
    if (child && !exited(child)) {
      // The watchdog passes the SIGTERM on and exits when dockerd has.
      child.kill('SIGTERM');
      if (!(await waitExit(child, 30_000))) {
        const pid = Number.parseInt((await readFile(join(dir, 'docker.pid'), 'utf8').catch(() => '')).trim(), 10);
        if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    child?.stdin?.destroy();
    // dockerd stops its containerd on a clean exit; after a SIGKILL it would linger.
    const pidText = await readFile(join(dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').catch(() => '');
    const pid = Number.parseInt(pidText.trim(), 10);
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await unmountAndRemove(dir);
  };
  const stop = (): Promise<void> => (stopped ??= stopNow());

  try {
    await mkdir(env.DOCKER_CONFIG as string);
    await writeFile(join(dir, 'daemon.json'), '{}\n');
    const log = openSync(logFile, 'a');
    try {
      child = spawn('bash', ['-c', WATCHDOG_SCRIPT, 'dockerd-watchdog', dir, DOCKERD_BIN,
        '--data-root', join(dir, 'data'),
        '--exec-root', join(dir, 'exec'),
        '-H', `unix://${sock}`,
        '--pidfile', join(dir, 'docker.pid'),
        '--config-file', join(dir, 'daemon.json'),
        '--iptables=false',
        '--ip-masq=false',
        '--bridge=none',
      ], { stdio: ['pipe', log, log], env: { PATH: env.PATH, HOME: env.HOME } });
      // Never written to; it only has to stay open while this process lives.
      child.stdin?.on('error', () => undefined);
    } finally {
      closeSync(log);
    }
    const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
    for (;;) {
      opts.signal?.throwIfAborted();
      if (exited(child)) throw new Error(`dockerd exited early (${child.exitCode ?? child.signalCode}):\n${(await readFile(logFile, 'utf8')).slice(-3000)}`);
      const r = await runDocker(env, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error(`dockerd did not answer within ${opts.startTimeoutMs ?? 60_000} ms:\n${(await readFile(logFile, 'utf8')).slice(-3000)}`);
      await sleep(250);
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const docker = (args: readonly string[], o: DockerRunOptions = {}): Promise<DockerResult> => runDocker(env, args, o);
  return {
    dir,
    host: env.DOCKER_HOST as string,
    env,
    docker,
    dockerOk: async (args, o = {}) => {
      const r = await docker(args, o);
      if (r.code !== 0) throw new DockerCommandError(args, r);
      return r.stdout;
    },
    logs: () => readFile(logFile, 'utf8').catch(() => ''),
    stop,
  };
}
