/**
 * A private tsbuildd for a benchmark: the built daemon (from a snapshotCli copy, beside the CLI)
 * with its own data root and a unix socket in the benchmark's work dir. Started once per tool
 * reset, stopped with SIGTERM (SIGKILL after a grace period) by `stop()`, which the benchmark
 * calls in a `finally`. `rssBytes()` reads the daemon's resident set from /proc, for the load test.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { TsbuildError } from '../../src/util/errors.js';

export interface PrivateTsbuildd {
  /** `unix:///…/tsbuildd.sock`, for the CLI's --addr. */
  readonly addr: string;
  readonly pid: number;
  /** VmRSS of the daemon process, in bytes (0 once it exited). */
  rssBytes(): Promise<number>;
  /** Its stderr so far (for error messages). */
  log(): string;
  /** SIGTERM, wait (SIGKILL after `graceMs`, default 30 s). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartTsbuilddOptions {
  /** The tsbuildd.mjs to run (a snapshotCli copy's). */
  readonly bin: string;
  readonly root: string;
  /** The socket path (keep it short: unix socket paths stop at 107 bytes). */
  readonly socket: string;
  readonly signal: AbortSignal;
  readonly startTimeoutMs?: number;
}

export function startTsbuildd(opts: StartTsbuilddOptions): Promise<PrivateTsbuildd> {
  const addr = `unix://${opts.socket}`;
  // Builds here run with --network=host, as Docker's side does (no slirp4netns in the timing):
  // the daemon must allow that entitlement.
  const child: ChildProcess = spawn(process.execPath, [opts.bin, '--root', opts.root, '--addr', addr, '--allow-insecure-entitlement', 'network.host'], {
    env: { ...process.env, NODE_OPTIONS: '' },
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => {
    exited = true;
    resolve();
  }));
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 30_000): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await exit;
      clearTimeout(timer);
    })();
    return stopping;
  };
  const daemon: PrivateTsbuildd = {
    addr,
    pid: child.pid ?? 0,
    rssBytes: async () => {
      const status = await readFile(`/proc/${child.pid ?? 0}/status`, 'utf8').catch(() => '');
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    },
    log: () => err,
    stop,
  };
  return new Promise<PrivateTsbuildd>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      void stop(5_000).then(() => reject(new TsbuildError('BENCH_TSBUILDD', `tsbuildd ${why}:\n${err.trim()}`)));
    };
    const onAbort = (): void => fail('start aborted');
    const timer = setTimeout(() => fail('did not listen in time'), opts.startTimeoutMs ?? 60_000);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (err.includes(`listening on ${addr}`)) {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', onAbort);
        resolve(daemon);
      }
    });
    child.on('exit', (code, sig) => {
      if (!err.includes(`listening on ${addr}`)) fail(`exited (${code ?? sig}) before listening`);
    });
  });
}
