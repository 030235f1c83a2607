/**
 * The runc command line, as the executor drives it: `run` in the foreground with piped stdio (under
 * the run shim, so the container dies with the engine), and the control commands (`kill`,
 * `delete`, `list`) on the same `--root` state directory.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { TsbuildError } from '../../util/errors.js';
import { findExecutable } from '../../util/find-executable.js';
import { spawnUnderShim } from './run-shim.js';
import type { RuncFds, ShimChild } from './run-shim.js';

export type { RuncFds } from './run-shim.js';

export interface RuncOptions {
  /** The runc binary. Default `runc` (from PATH). */
  readonly binary?: string;
  /** runc's `--root` state directory (ROOT/runc). */
  readonly stateDir: string;
}

/** One entry of `runc list --format json`. */
export interface RuncContainer {
  readonly id: string;
  readonly pid: number;
  readonly status: string;
  readonly bundle: string;
}

export interface RuncRunOptions {
  readonly id: string;
  readonly bundle: string;
  /** runc's own log (JSON lines); its errors tell a failed start from a failed process. */
  readonly logFile: string;
  /** The container's cgroup directories: the shim removes them if the engine dies mid-run. */
  readonly cgroupDirs: readonly string[];
  /** Files the container's process gets as fds 3-5 (`--preserve-fds 3`): seccomp-preload.ts. */
  readonly fds?: RuncFds;
}


/**
 * A bare name is looked up on PATH once, here: the run shim's `exec runc` otherwise searched PATH
 * at every RUN (one failed execve per directory before runc's: six on a typical root PATH), on the
 * step's critical path. Not found (or found only through a relative PATH entry): the name as given,
 * so a start fails, or finds a runc installed later, exactly as before.
 */
function resolveBinary(binary: string): string {
  if (binary.includes('/')) return binary;
  const found = findExecutable(binary);
  return found !== undefined && isAbsolute(found) ? found : binary;
}

/** Bounds every control command: they must never hang a cleanup path. */
const CONTROL_TIMEOUT_MS = 30_000;

export class Runc {
  readonly binary: string;
  readonly stateDir: string;

  constructor(opts: RuncOptions) {
    this.binary = resolveBinary(opts.binary ?? 'runc');
    this.stateDir = opts.stateDir;
  }

  /**
   * Starts `runc run` (foreground, no terminal) under the run shim (run-shim.ts), which kills the
   * container if the engine dies first; the container process's stdout/stderr are the pipes.
   * Exit code 127 without a runc log: runc itself could not be run.
   */
  run(opts: RuncRunOptions): ShimChild {
    const preserve = opts.fds !== undefined ? ['--preserve-fds', '3'] : [];
    const argv = [this.binary, '--root', this.stateDir, '--log', opts.logFile, '--log-format', 'json', 'run', ...preserve, '--bundle', opts.bundle, opts.id];
    return spawnUnderShim({ runc: this.binary, stateDir: this.stateDir, id: opts.id, cgroupDirs: opts.cgroupDirs, argv, ...(opts.fds !== undefined ? { fds: opts.fds } : {}) });
  }

  /** Sends a signal to the container's init; false when the container does not (or no longer) run. */
  async kill(id: string, signal: 'KILL' | 'TERM'): Promise<boolean> {
    try {
      await this.control(['kill', id, signal]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * `runc delete --force`: kills what is left and removes state and cgroups. Missing is fine. A
   * container without a state directory under --root is already gone (a `runc run` that returned
   * removed it): then no runc process is started, which saves one process start per RUN (issue 14;
   * the run's cgroups are the executor's own cleanup).
   */
  async forceDelete(id: string): Promise<void> {
    if (!existsSync(join(this.stateDir, id))) return;
    try {
      await this.control(['delete', '--force', id]);
    } catch (e) {
      if (/does not exist|not found/i.test(String((e as { stderr?: unknown }).stderr ?? e))) return;
      throw new TsbuildError('RUNC_DELETE_FAILED', `runc delete ${id} failed: ${String((e as { stderr?: unknown }).stderr ?? e).trim()}`, { cause: e });
    }
  }

  /** The host pid of a running container's init (`runc state`). */
  async statePid(id: string): Promise<number> {
    const state = JSON.parse(await this.control(['state', id])) as { pid?: unknown };
    if (typeof state.pid !== 'number' || state.pid <= 0) throw new TsbuildError('RUNC_STATE_FAILED', `runc state ${id} has no pid`);
    return state.pid;
  }

  async list(signal: AbortSignal): Promise<RuncContainer[]> {
    // runc keeps one directory per container under --root: with none there (the usual case when a
    // build starts) there is nothing to ask, and every build saves a runc process start.
    const entries = await readdir(this.stateDir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
    if (entries.length === 0) return [];
    const out = await this.control(['list', '--format', 'json'], signal);
    const parsed = JSON.parse(out.trim() === '' ? 'null' : out) as RuncContainer[] | null;
    return parsed ?? [];
  }

  private control(args: readonly string[], signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, ['--root', this.stateDir, ...args], { timeout: CONTROL_TIMEOUT_MS, ...(signal ? { signal } : {}) }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr }));
        else resolve(stdout);
      });
    });
  }
}
