/**
 * The scratch copy of the build context `tsbuild compare` changes: reset to the user's context
 * before each scenario (always at the same path, so the build history — keyed by Dockerfile, and
 * through tsbuildd by the client's context directory — explains each rebuild's misses against the
 * earlier builds), then changed by touching files (a byte appended: cache keys fingerprint content,
 * not mtimes) or by running a `--change` shell command in it. The user's context is never written.
 */
import { spawn } from 'node:child_process';
import { appendFile, cp, lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserInputError } from '../../src/util/errors.js';

/** Makes `dest` an exact copy of `src` (symlinks kept as they are). */
export async function resetContext(src: string, dest: string): Promise<void> {
  await rm(dest, { recursive: true, force: true });
  await cp(src, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

/** The paths among `paths` (context-relative) that are regular files in `dir`. */
export async function regularFiles(dir: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await lstat(join(dir, p)).catch(() => undefined);
    if (st?.isFile()) out.push(p);
  }
  return out;
}

/**
 * Appends `count` newlines to each file: a content change that keeps scripts, JSON and text valid.
 * Each scenario appends a different count, so no two scenarios leave a file with equal content
 * (which would let one scenario's rebuild hit the cache another one wrote).
 */
export async function touchFiles(dir: string, files: readonly string[], count: number): Promise<void> {
  for (const f of files) await appendFile(join(dir, f), '\n'.repeat(count));
}

type Listing = Map<string, string>;

/** Every entry under `dir` with what identifies its state (type, size, mode, mtime, link target). */
async function listing(dir: string): Promise<Listing> {
  const out: Listing = new Map();
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const p = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, p), { bigint: true });
      out.set(p, `${st.mode}:${st.size}:${st.mtimeNs}:${st.ino}`);
      if (st.isDirectory()) await visit(p);
    }
  };
  await visit('');
  return out;
}

/**
 * Runs a `--change` command with `sh -c` in `dir`; returns the entries it added, changed or
 * removed. A failing command is the user's error, with its exit status and last stderr line.
 */
export async function runChange(dir: string, command: string, signal: AbortSignal): Promise<string[]> {
  const before = await listing(dir);
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.on('error', reject);
    child.on('close', (c, sig) => resolve({ code: c ?? (sig ? 128 : 1), stderr: err }));
  });
  if (code !== 0) {
    const last = stderr.trim().split('\n').at(-1);
    throw new UserInputError('COMPARE_CHANGE_FAILED', `--change "${command}" failed with exit status ${code} in a copy of the context${last ? `: ${last}` : ''}`);
  }
  const after = await listing(dir);
  const changed = new Set<string>();
  for (const [p, s] of after) if (before.get(p) !== s) changed.add(p);
  for (const p of before.keys()) if (!after.has(p)) changed.add(p);
  // A directory changes with any entry in it; name the entries, not their directories.
  return [...changed].filter((p) => ![...changed].some((q) => q.startsWith(`${p}/`))).sort();
}
