/**
 * One `runc run` from start to exit: output streamed as lines, cancellation by killing the
 * container (never just runc, which would orphan it), telling a process's own failure from runc
 * failing to start it, under the run shim (which kills the container if the engine dies).
 */
import { constants } from 'node:os';
import { readFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../../util/errors.js';
import { LineSplitter } from './log-lines.js';
import type { Runc, RuncFds } from './runc.js';
import type { ExecLogLine } from './types.js';

export interface ContainerRunOptions {
  readonly runc: Runc;
  readonly id: string;
  readonly bundle: string;
  readonly logFile: string;
  /** The container's cgroup directories (for the run shim). */
  readonly cgroupDirs: readonly string[];
  readonly onLine: (line: ExecLogLine) => void;
  readonly signal: AbortSignal;
  /** After abort: how long `runc kill` may take before runc itself is SIGKILLed. */
  readonly killTimeoutMs: number;
  /** tsbuild-run-init's fds (seccomp-preload.ts): its start failure is in `fds.report`. */
  readonly fds?: RuncFds;
  /** Called once runc has been started (ExecProcess.onStarted). */
  readonly onStarted?: () => void;
}

export interface ContainerExit {
  /** The process's exit code, 128+N when killed by signal N. */
  readonly exitCode: number;
  /** runc's own error when it failed to set up or start the process. */
  readonly startError: string | undefined;
  /** The signal aborted and the container was killed. */
  readonly cancelled: boolean;
}

/** Strips runc's wrapping so the user sees the cause: `exec: "foo": executable file not found in $PATH`. */
function tidyRuncError(msg: string): string {
  return msg.replace(/^runc run failed: /, '').replace(/^unable to start container process: /, '');
}

async function readStartError(logFile: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg !== undefined) last = tidyRuncError(entry.msg);
    } catch {
      // runc writes one JSON object per line; anything else is not ours to interpret.
    }
  }
  return last;
}

/** tsbuild-run-init's start failure (runc's words for the same failure), if it wrote one. */
function readReport(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

export async function runContainer(o: ContainerRunOptions): Promise<ContainerExit> {
  const child = o.runc.run({ id: o.id, bundle: o.bundle, logFile: o.logFile, cgroupDirs: o.cgroupDirs, ...(o.fds !== undefined ? { fds: o.fds } : {}) });
  try {
    o.onStarted?.();
  } catch {
    // A broken listener must not break the build step.
  }
  const emit = (line: ExecLogLine): void => {
    try {
      o.onLine(line);
    } catch {
      // A broken log consumer must not break the build step.
    }
  };
  const out = new LineSplitter({ stream: 1, emit });
  const err = new LineSplitter({ stream: 2, emit });
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdout.on('end', () => out.end());
  child.stderr.on('end', () => err.end());

  let exited = false;
  let cancelled = false;
  const killLoop = async (): Promise<void> => {
    const deadline = Date.now() + o.killTimeoutMs;
    // The container may not exist yet (runc still creating it): retry until runc run returns.
    while (!exited) {
      await o.runc.kill(o.id, 'KILL');
      if (exited) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        return;
      }
      await sleep(100);
    }
  };
  const onAbort = (): void => {
    cancelled = true;
    void killLoop();
  };

  const closed = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e) => reject(new TsbuildError('RUNC_NOT_FOUND', `cannot start the run shim for ${o.runc.binary}: ${e.message}`, { cause: e })));
    child.once('close', (code, sig) => resolve({ code, sig }));
  });
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const { code, sig } = await closed;
    exited = true;
    const exitCode = code ?? 128 + (sig === null ? 0 : constants.signals[sig]);
    // The shim's shell could not exec runc (it says why on stderr); runc opens its log first thing.
    if (exitCode === 127 && !(await access(o.logFile).then(() => true, () => false))) {
      throw new TsbuildError('RUNC_NOT_FOUND', `cannot run ${o.runc.binary}: not found (is runc installed?)`);
    }
    const startError = !cancelled && exitCode !== 0 ? ((await readStartError(o.logFile)) ?? (o.fds !== undefined ? readReport(o.fds.report) : undefined)) : undefined;
    return { exitCode, startError, cancelled };
  } finally {
    exited = true;
    o.signal.removeEventListener('abort', onAbort);
  }
}
