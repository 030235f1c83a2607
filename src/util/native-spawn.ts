/**
 * A child process started by the native module's `spawn` (native/spawn.c: clone with CLONE_VM |
 * CLONE_VFORK, no copy of the daemon's page tables) behind the part of ChildProcess's interface the
 * run shim and the executor use: `pid`, `stdio`/`stdout`/`stderr` as sockets, `kill`, and the
 * 'exit', 'close' and 'error' events in the order child_process gives them.
 *
 * Why: `child_process.spawn` forks the daemon while the event loop waits, 3.5 ms quiet and 8-13 ms
 * under load per RUN step (docs/benchmarks.md, s14-run); this takes ~0.4 ms at the same heap.
 * Without the native module (or with TSBUILD_NATIVE=0) `spawnChild` uses child_process.
 */
import { spawn as nodeSpawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { nativeSys } from './native-sys.js';
import type { NativeSpawn } from './native-sys.js';

/** What each child fd is: /dev/null, a pipe the child writes, or a socket pair (both ways). */
export type StdioKind = 'ignore' | 'pipe' | 'socket';

const KIND: Record<StdioKind, number> = { ignore: 0, pipe: 1, socket: 2 };

export interface SpawnChildOptions {
  /** One entry per child fd from 0; at most 4 (the native spawn maps fds 0-3). */
  readonly stdio: readonly StdioKind[];
  /** The child gets its own session and process group (child_process's `detached`). */
  readonly detached: boolean;
  /** Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** false: child_process even when the native module is there (tests compare both). */
  readonly native?: boolean;
}

/** The part of ChildProcess both implementations have. */
export interface SpawnedChild {
  readonly pid: number | undefined;
  /** One entry per child fd; null for 'ignore'. */
  readonly stdio: readonly (Socket | Readable | null)[];
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  on(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

class NativeChild extends EventEmitter implements SpawnedChild {
  pid: number | undefined;
  readonly stdio: (Socket | null)[] = [];
  /** Set on the event loop when the child has been reaped: its pid may belong to another process. */
  private reaped = false;

  constructor(file: string, args: readonly string[], o: SpawnChildOptions, spawn: NativeSpawn) {
    super();
    const env = Object.entries(o.env ?? process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    let out: number[];
    try {
      out = spawn(file, [file, ...args], env, o.stdio.map((k) => KIND[k]), o.detached, (code, sig) => this.exited(code, sig));
    } catch (e) {
      process.nextTick(() => this.emit('error', e));
      return;
    }
    this.pid = out[0];
    for (let i = 0; i < o.stdio.length; i++) {
      const fd = out[i + 1] ?? -1;
      const kind = o.stdio[i];
      this.stdio.push(fd < 0 ? null : new Socket({ fd, readable: true, writable: kind === 'socket' }));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    // Before the reap the pid is this child's (a zombie at worst), never a reused one.
    if (this.reaped || this.pid === undefined) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  private exited(code: number, sig: number): void {
    this.reaped = true;
    const exitCode = code >= 0 ? code : null;
    const signal = sig > 0 ? (SIGNAL_NAMES.get(sig) ?? null) : null;
    this.emit('exit', exitCode, signal);
    // As child_process: 'close' once the child has exited and its output pipes have closed.
    const pipes = this.stdio.filter((s, i): s is Socket => s !== null && i > 0 && i < 3);
    const open = pipes.filter((s) => !s.closed);
    let left = open.length;
    if (left === 0) this.emit('close', exitCode, signal);
    for (const s of open) {
      s.once('close', () => {
        if (--left === 0) this.emit('close', exitCode, signal);
      });
    }
  }
}

/**
 * Starts `file` with `args` (argv[0] is `file`), through the native module when it has `spawn`,
 * else through child_process with the same stdio and session.
 */
export function spawnChild(file: string, args: readonly string[], o: SpawnChildOptions): SpawnedChild {
  const spawn = o.native === false ? undefined : nativeSys()?.spawn;
  if (spawn !== undefined) return new NativeChild(file, args, o, spawn);
  const child: ChildProcess = nodeSpawn(file, args, { stdio: o.stdio.map((k) => (k === 'socket' ? 'pipe' : k)), detached: o.detached, ...(o.env ? { env: o.env } : {}) });
  return child as ChildProcess & SpawnedChild;
}
