/**
 * Runs one external command for a benchmark: wall time from spawn to exit, every output line with
 * the time it arrived (Buildah's export step is timed from its output), and cancellation.
 *
 * Children run in their own process group, so a Ctrl-C at the terminal reaches only the benchmark,
 * which then sends each running child exactly one polite signal: tsbuild treats a second SIGINT
 * as "exit without cleanup", which is what a terminal-wide Ctrl-C would otherwise deliver.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TsbuildError } from '../../src/util/errors.js';

export interface OutputLine {
  /** ms since the command was spawned. */
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: readonly OutputLine[];
}

export interface RunCommandOptions {
  readonly signal: AbortSignal;
  readonly cwd?: string;
  /** The whole environment of the child (not merged with this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Sent on abort; SIGKILL to the whole group follows after `graceMs`. Default SIGINT. */
  readonly stopSignal?: NodeJS.Signals;
  /** Default 60 s: enough for tsbuild or buildah to undo their mounts. */
  readonly graceMs?: number;
  /** Killed (SIGKILL) after this long. Default 1 hour. */
  readonly timeoutMs?: number;
  /** Bytes fed to stdin, then closed. Default: stdin closed at once. */
  readonly input?: string;
}

/** A command that exited non-zero; the message carries the command and the end of its output. */
export class CommandFailedError extends TsbuildError {
  constructor(readonly command: string, readonly result: CommandResult) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-25).join('\n');
    super('BENCH_COMMAND_FAILED', `${command} exited with ${result.code ?? result.signal}:\n${tail}`);
    this.name = 'CommandFailedError';
  }
}

export function runCommand(cmd: string, args: readonly string[], opts: RunCommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(opts.signal.reason);
      return;
    }
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: OutputLine[] = [];
    const out: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
    const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
    const collect = (stream: 'stdout' | 'stderr') => (b: Buffer): void => {
      const at = performance.now() - t0;
      const text = partial[stream] + b.toString('utf8');
      const parts = text.split('\n');
      partial[stream] = parts.pop() ?? '';
      for (const p of parts) lines.push({ at, stream, text: p });
      out[stream].push(b.toString('utf8'));
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      try {
        child.kill(opts.stopSignal ?? 'SIGINT');
      } catch {
        // already gone
      }
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.graceMs ?? 60_000);
    };
    const timeout = setTimeout(() => killGroup('SIGKILL'), opts.timeoutMs ?? 3_600_000);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timeout);
      opts.signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - t0;
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      opts.signal.removeEventListener('abort', onAbort);
      for (const s of ['stdout', 'stderr'] as const) if (partial[s] !== '') lines.push({ at: wallMs, stream: s, text: partial[s] });
      if (opts.signal.aborted) {
        reject(opts.signal.reason);
        return;
      }
      resolve({ code, signal, wallMs, stdout: out.stdout.join(''), stderr: out.stderr.join(''), lines });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like runCommand, but throws CommandFailedError unless the command exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunCommandOptions): Promise<CommandResult> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) throw new CommandFailedError(`${cmd} ${args.join(' ')}`, r);
  return r;
}
