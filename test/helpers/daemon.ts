/**
 * Runs the real, built `tsbuildd` (dist/bin/tsbuildd.mjs) as a child process: start it and wait
 * until it listens on every address (its "listening on ADDR" lines, which also give the port a
 * tcp://HOST:0 address got), signal it, wait for it to exit.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const daemonPath = join(repoRoot, 'dist', 'bin', 'tsbuildd.mjs');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** Bound addresses, in --addr order (`unix:///…`, `tcp://127.0.0.1:PORT`). */
  readonly addresses: readonly string[];
  readonly exited: Promise<Exit>;
  stderr(): string;
  /** Resolves when stderr has a line matching `re` (rejects on exit or after `timeoutMs`). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/** How many addresses the daemon will listen on: one per --addr, else its default one. */
function expectedAddresses(args: readonly string[]): number {
  return Math.max(1, args.filter((a) => a === '--addr' || a.startsWith('--addr=')).length);
}

/**
 * Spawns tsbuildd with `args` (from `bin`, default the built one); resolves once it listens,
 * rejects with its stderr if it exits first.
 */
export function startDaemon(
  args: readonly string[],
  opts: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number; readonly expect?: number } = {},
  bin: string = daemonPath,
): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const listeners = new Set<() => void>();
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString('utf8');
    for (const l of [...listeners]) l();
  });
  child.stdout.resume();
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => {
    resolve({ code, signal });
    for (const l of [...listeners]) l();
  }));
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));

  const waitFor = (ok: () => boolean, what: string, timeoutMs = 30_000): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`tsbuildd did not log ${what} within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    function check(): void {
      if (ok()) {
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      } else if (exit) {
        clearTimeout(timer);
        listeners.delete(check);
        reject(new Error(`tsbuildd exited (${exit.code ?? exit.signal}) before logging ${what}; stderr:\n${err}`));
      }
    }
    listeners.add(check);
    check();
  });
  const waitForLog = (re: RegExp, timeoutMs?: number): Promise<void> => waitFor(() => re.test(err), String(re), timeoutMs);

  const want = opts.expect ?? expectedAddresses(args);
  const listening = (): string[] => [...err.matchAll(/^tsbuildd: listening on (\S+)$/gm)].map((m) => m[1] as string);
  return waitFor(() => listening().length >= want, `${want} "listening on" line(s)`, opts.timeoutMs).then(
    () => ({
      child,
      addresses: listening(),
      exited,
      stderr: () => err,
      waitForLog,
      stop: async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) => {
        if (!exit) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      },
    }),
    async (e: unknown) => {
      if (!exit) child.kill('SIGKILL');
      await exited;
      throw e;
    },
  );
}

/** Runs tsbuildd expecting it to exit by itself (bad flags, refused start-up). */
export function runDaemonToExit(args: readonly string[], opts: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<Exit & { readonly stderr: string; readonly stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [daemonPath, ...args], { env: { ...process.env, NODE_OPTIONS: '', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr: err, stdout: out });
    });
  });
}
