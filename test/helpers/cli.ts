/** Runs the real, built `tsbuild` CLI (dist/) as a child process. */
import { spawn } from 'node:child_process';
import { cliPath } from './paths.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
  /** Run the bin file itself, as an installed `tsbuild` runs (its first line starts node), not `node FILE`. */
  readonly asExecutable?: boolean;
}

export function runTsbuild(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [file, argv] = opts.asExecutable ? [cliPath, args] : [process.execPath, [cliPath, ...args]];
    const child = spawn(file, argv, {
      cwd: opts.cwd,
      env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}
