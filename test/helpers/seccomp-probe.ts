/**
 * The seccomp probe (test/worker/exec/seccomp-probe.c): compiled at test setup with `gcc -static`
 * into a caller's temp dir (no binary is committed), and its output parsed. A static binary runs in
 * the busybox base image, which has no libc.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { haveBinary } from './skip.js';

export const probeSource = join(repoRoot, 'test', 'worker', 'exec', 'seccomp-probe.c');

/** x86_64 with gcc and a static libc (Debian: gcc, libc6-dev). */
export const canBuildProbe = process.arch === 'x64' && haveBinary('gcc') && existsSync('/usr/lib/x86_64-linux-gnu/libc.a');
export const probeMissingWhy = process.arch === 'x64'
  ? 'needs gcc and a static libc (Debian packages gcc, libc6-dev) to compile the seccomp probe'
  : 'the seccomp probe is written for x86_64';

/** Compiles the probe to `dir/probe` and returns that path. */
export function compileProbe(dir: string, signal?: AbortSignal): Promise<string> {
  const out = join(dir, 'probe');
  return new Promise((resolve, reject) => {
    execFile('gcc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, probeSource], { signal }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`gcc ${probeSource}: ${stderr.trim() || err.message}`));
      else resolve(out);
    });
  });
}

/** One probed call: `ok`, `errno=N` or `signal=N`. */
export type ProbeOutcome = string;

/** The probe's output as name → outcome, in the probe's order; throws on a line it does not understand. */
export function parseProbeOutput(text: string): Map<string, ProbeOutcome> {
  const out = new Map<string, ProbeOutcome>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([a-z0-9_]+) (ok|errno=\d+|signal=\d+|exited=\d+)$/.exec(line);
    if (!m) throw new Error(`seccomp probe: unexpected line ${JSON.stringify(line)}`);
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** The calls whose outcomes differ, one line each (`name: docker=errno=1 tsbuild=ok`). */
export function probeDifferences(
  a: ReadonlyMap<string, ProbeOutcome>,
  b: ReadonlyMap<string, ProbeOutcome>,
  labels: readonly [string, string],
): string[] {
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names
    .filter((n) => a.get(n) !== b.get(n))
    .map((n) => `${n}: ${labels[0]}=${a.get(n) ?? 'missing'} ${labels[1]}=${b.get(n) ?? 'missing'}`);
}
