/** Runs a TypeScript fixture under test/cache/fixtures in a real child node process. */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/paths.js';

const fixtures = join(repoRoot, 'test', 'cache', 'fixtures');

export function spawnFixture(name: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', join(fixtures, 'swc-register.mjs'), join(fixtures, name), ...args], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves when the child prints a line containing `marker` on stdout; rejects if it exits first. */
export function waitForLine(child: ChildProcessWithoutNullStreams, marker: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for "${marker}"; stderr: ${err}`)), timeoutMs);
    const onOut = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(marker)) done();
    };
    const onErr = (b: Buffer): void => {
      err += b.toString();
    };
    const onExit = (code: number | null): void => done(new Error(`fixture exited (${code}) before "${marker}"; stderr: ${err}`));
    function done(e?: Error): void {
      clearTimeout(timer);
      child.stdout.off('data', onOut);
      child.stderr.off('data', onErr);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    }
    child.stdout.on('data', onOut);
    child.stderr.on('data', onErr);
    child.on('exit', onExit);
  });
}

/** Waits for the child to exit; returns its code, signal and output. */
export function waitForExit(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
      return;
    }
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** SIGKILLs the child and waits until it is gone. */
export async function killHard(child: ChildProcessWithoutNullStreams): Promise<void> {
  const gone = waitForExit(child);
  child.kill('SIGKILL');
  await gone;
}
