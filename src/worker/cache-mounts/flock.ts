/**
 * Advisory file locks with the kernel's flock(2) semantics, across processes. Node has no flock, so
 * each held lock is a small `flock(1)` child (util-linux, always present on Debian) that takes the
 * lock and then waits on its stdin. Releasing closes that stdin; if the engine dies, the kernel
 * closes it, the child exits and the lock is free: a crashed holder never leaves a stale lock.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CancelledError, TsbuildError } from '../../util/errors.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  readonly mode: LockMode;
  /** Wait for the lock (true) or give up at once when it is held (false). */
  readonly wait: boolean;
  readonly signal: AbortSignal;
}

/** A held lock. `release()` is idempotent. */
export interface FileLock {
  readonly path: string;
  readonly mode: LockMode;
  release(): Promise<void>;
}

/** flock(1) exits with this when --nonblock finds the lock held. */
const CONFLICT_EXIT = 75;
const READY = 'locked\n';

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** The child's process and pipe handles; unref'd while the lock is merely held. */
function handles(child: Child): Array<{ ref?: () => void; unref?: () => void }> {
  return [child, child.stdin, child.stdout, child.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void }>;
}

function exited(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Takes a lock on `path` (created if missing). Resolves with the lock, or with undefined when
 * `wait` is false and the lock is held elsewhere. Rejects with CancelledError when the signal
 * aborts while waiting.
 */
export function lockFile(path: string, opts: LockOptions): Promise<FileLock | undefined> {
  if (opts.signal.aborted) return Promise.reject(new CancelledError(opts.signal.reason));
  const args = [
    opts.mode === 'shared' ? '--shared' : '--exclusive',
    ...(opts.wait ? [] : ['--nonblock']),
    '--conflict-exit-code', String(CONFLICT_EXIT),
    path,
    'sh', '-c', `printf '${READY.trim()}\\n'; exec cat`,
  ];
  const child: Child = spawn('flock', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  child.stdin.on('error', () => undefined);

  return new Promise<FileLock | undefined>((resolve, reject) => {
    let out = '';
    let settled = false;
    const kill = (): void => {
      child.stdin.destroy();
      child.kill('SIGKILL');
    };
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => finish(() => {
      kill();
      reject(new CancelledError(opts.signal.reason));
    });
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => finish(() => reject(new TsbuildError('FLOCK_FAILED', `cannot run flock: ${e.message}`, { cause: e }))));
    child.once('exit', (code) => finish(() => {
      if (code === CONFLICT_EXIT) resolve(undefined);
      else reject(new TsbuildError('FLOCK_FAILED', `flock ${path} failed (exit ${String(code)}): ${stderr.trim()}`));
    }));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!out.startsWith(READY)) return;
      finish(() => {
        // Held for as long as the lease lives; a forgotten lease must not keep the engine alive.
        for (const h of handles(child)) h.unref?.();
        let released: Promise<void> | undefined;
        resolve({
          path,
          mode: opts.mode,
          release() {
            released ??= (async () => {
              for (const h of handles(child)) h.ref?.();
              child.stdin.end();
              const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
              await exited(child);
              clearTimeout(timer);
            })();
            return released;
          },
        });
      });
    });
  });
}
