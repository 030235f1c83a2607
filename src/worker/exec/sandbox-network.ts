/**
 * The default RUN network (`sandbox`, BuildKit's name for it): a fresh network namespace per run
 * with outbound access, so a step reaches the outside as with Docker's bridge but never the host's
 * or the engine's loopback services. The namespace is held by an nsfs bind mount in the run's
 * bundle (`unshare --net=FILE`) and given to runc by path; slirp4netns gives it `tap0`
 * (10.0.2.100/24, gateway 10.0.2.2, DNS forwarder 10.0.2.3) and NATs its traffic through ordinary
 * sockets of the engine's own namespace. `--disable-host-loopback` makes 10.0.2.2 lead nowhere
 * instead of to the host's 127.0.0.1. slirp4netns needs no bridge, no iptables and no sysctl, and
 * it dies by itself when the engine does (`--exit-fd`); `release()` stops it and unmounts the file.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, TsbuildError } from '../../util/errors.js';
import { findExecutable } from '../../util/find-executable.js';
import { isMountPoint } from '../snapshot/mount-table-proc.js';
import { processStartTime } from '../snapshot/owner.js';
import { ExecErrorCode } from './errors.js';

/** slirp4netns' DNS forwarder: queries sent here are resent by slirp4netns to the host's resolvers. */
export const SANDBOX_DNS = '10.0.2.3';

/** The bundle files of a run's sandbox network: the namespace and the slirp4netns process record. */
const NETNS_FILE = 'netns';
const SLIRP_RECORD = 'slirp.json';

export interface SandboxNetworkOptions {
  /** The run's bundle; the namespace file and the process record go there. */
  readonly dir: string;
  /** Default `slirp4netns` from PATH. */
  readonly slirp4netnsBinary?: string;
  readonly signal: AbortSignal;
  /** How long slirp4netns may take to bring the interface up. Default 30000. */
  readonly readyTimeoutMs?: number;
}

export interface SandboxNetwork {
  /** The nsfs file holding the namespace: runc's `{ type: 'network', path }`. */
  readonly nsPath: string;
  /** Stops slirp4netns, unmounts and removes the namespace file. Idempotent. */
  release(): Promise<void>;
}

/** What the stale-run cleanup needs to find a dead engine's slirp4netns (pid reuse-safe). */
interface SlirpRecord {
  readonly pid: number;
  readonly startTime: string;
}

function command(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (err) reject(new TsbuildError(ExecErrorCode.networkFailed, `${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve();
    });
  });
}

/** Unmounts the namespace file (if mounted) and removes it. */
async function removeNamespaceFile(nsPath: string): Promise<void> {
  if (await isMountPoint(nsPath)) await command('umount', [nsPath]);
  await rm(nsPath, { force: true });
}

function missingBinary(binary: string, cause: unknown): TsbuildError {
  return new TsbuildError(
    ExecErrorCode.networkUnavailable,
    `RUN in the default (sandbox) network needs ${binary}, which was not found: install the Debian package slirp4netns (apt-get install slirp4netns), or build with --network host or none`,
    { cause },
  );
}

/** Resolves when the child has exited (immediately if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Waits until slirp4netns writes to its ready fd; rejects when it exits first, on abort or timeout. */
function waitReady(child: ChildProcess, ready: Readable, signal: AbortSignal, timeoutMs: number, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new TsbuildError(ExecErrorCode.networkFailed, `slirp4netns did not bring the network up within ${timeoutMs} ms: ${stderr()}`)), timeoutMs);
    const onAbort = (): void => finish(new CancelledError(signal.reason));
    const onExit = (code: number | null, sig: string | null): void => {
      finish(new TsbuildError(ExecErrorCode.networkFailed, `slirp4netns exited (${sig ?? `code ${String(code)}`}) before the network was up: ${stderr()}`));
    };
    const onError = (e: Error): void => finish(e);
    const onData = (): void => finish(undefined);
    function finish(e: Error | undefined): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      child.off('exit', onExit);
      child.off('error', onError);
      ready.off('data', onData);
      if (e === undefined) resolve();
      else reject(e);
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('exit', onExit);
    child.once('error', onError);
    ready.once('data', onData);
  });
}

export async function startSandboxNetwork(o: SandboxNetworkOptions): Promise<SandboxNetwork> {
  const binary = o.slirp4netnsBinary ?? 'slirp4netns';
  const nsPath = join(o.dir, NETNS_FILE);
  await writeFile(nsPath, '', { mode: 0o600 });
  let child: ChildProcess | undefined;
  const stopSlirp = async (c: ChildProcess): Promise<void> => {
    // Closing the exit fd is slirp4netns' own way out; SIGKILL if it does not take it promptly.
    const gone = exited(c);
    for (const s of c.stdio) s?.destroy();
    const timer = new AbortController();
    const inTime = await Promise.race([gone.then(() => true), sleep(2_000, false, { signal: timer.signal }).catch(() => false)]);
    timer.abort();
    if (!inTime) {
      c.kill('SIGKILL');
      await gone;
    }
    await rm(join(o.dir, SLIRP_RECORD), { force: true });
  };
  const release = async (): Promise<void> => {
    const c = child;
    child = undefined;
    // slirp4netns holds the tap device, not the file: both can go at once.
    const [a, b] = await Promise.allSettled([c === undefined ? undefined : stopSlirp(c), removeNamespaceFile(nsPath)]);
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
  };
  try {
    // `unshare --net=FILE` creates the namespace and bind-mounts it on FILE; the process exits at once.
    await command('unshare', [`--net=${nsPath}`, 'true']);
    let err = '';
    const exe = findExecutable(binary);
    if (exe === undefined) throw missingBinary(binary, new Error(`${binary}: not found`));
    // slirp4netns' --enable-sandbox unshares a mount namespace and unmounts the old root there. Run
    // in the engine's namespace, it inherited shared mounts (dockerd's data root and its running
    // containers' root filesystems are shared), and those unmounts propagated back to the host:
    // Docker RUNs beside a tsbuild build lost their root filesystem ("/bin/sh: no such file").
    // `unshare --mount` gives it a copy whose mounts are all private first (and then execs it, so
    // the pid is slirp4netns' own).
    const c = spawn('unshare', [
      '--mount', '--propagation', 'private', exe,
      '--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp',
      '--netns-type=path', '--ready-fd=3', '--exit-fd=4', nsPath, 'tap0',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    child = c;
    const spawned = await new Promise<Error | undefined>((resolve) => {
      c.once('spawn', () => resolve(undefined));
      c.once('error', (e) => resolve(e));
    });
    if (spawned !== undefined) {
      child = undefined;
      if ((spawned as NodeJS.ErrnoException).code === 'ENOENT') throw missingBinary(binary, spawned);
      throw new TsbuildError(ExecErrorCode.networkFailed, `cannot start ${binary}: ${spawned.message}`, { cause: spawned });
    }
    // A later 'error' (a failed kill) must not become an uncaught exception.
    c.on('error', () => undefined);
    (c.stderr as Readable).on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-4_000);
    });
    const record: SlirpRecord = { pid: c.pid as number, startTime: processStartTime(c.pid as number) ?? '' };
    await writeFile(join(o.dir, SLIRP_RECORD), JSON.stringify(record), { mode: 0o600 });
    const tail = (): string => err.trim().split('\n').slice(-3).join('; ');
    await waitReady(c, c.stdio[3] as Readable, o.signal, o.readyTimeoutMs ?? 30_000, tail);
  } catch (e) {
    await release();
    throw e;
  }
  return { nsPath, release };
}

/**
 * For the stale-run cleanup: stops the slirp4netns of a dead engine's run, if one still runs (it
 * normally exits with its engine). The namespace file is an ordinary mount under the bundle.
 */
export async function stopStaleSandboxNetwork(bundle: string): Promise<boolean> {
  let rec: SlirpRecord;
  try {
    rec = JSON.parse(await readFile(join(bundle, SLIRP_RECORD), 'utf8')) as SlirpRecord;
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(rec.pid) || rec.pid <= 1 || processStartTime(rec.pid) !== rec.startTime) return false;
  try {
    process.kill(rec.pid, 'SIGKILL');
  } catch {
    return false;
  }
  // Not our child: wait until the kernel has reaped it (its parent, or init, does that).
  const deadline = Date.now() + 10_000;
  while (processStartTime(rec.pid) === rec.startTime && Date.now() < deadline) await sleep(20);
  return true;
}
