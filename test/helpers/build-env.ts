/**
 * A fresh data root with the busybox base image imported as `localhost/busybox:latest`, for tests
 * that run real builds through the CLI. Also: parsing of `--progress=rawjson` output and a check
 * that nothing is left mounted under a directory.
 */
import { afterAll, beforeAll, expect } from '@jest/globals';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeBusyboxTar } from './busybox.js';
import { runTsbuild, type CliResult, type CliOptions } from './cli.js';
import { describeIf, haveBinary, isRoot } from './skip.js';

export const BASE = 'localhost/busybox:latest';

let baseTar: Promise<string> | undefined;
let baseDir: string | undefined;
// Registered while the test file loads (this module is imported at its top level), so it runs
// after the file's last test. A process 'exit' handler is not enough: Jest's workers are stopped
// without running them, and every test file left its tar behind in /tmp.
afterAll(() => {
  if (baseDir !== undefined) rmSync(baseDir, { recursive: true, force: true });
  baseDir = undefined;
  baseTar = undefined;
});

/** The busybox rootfs tar, made once per test file and removed after the file's tests. */
export function busyboxTar(): Promise<string> {
  baseTar ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsbuild-base-'));
    baseDir = dir;
    const file = join(dir, 'busybox.tar');
    await makeBusyboxTar(file);
    return file;
  })();
  return baseTar;
}

export interface BuildEnv {
  readonly dir: string;
  readonly root: string;
  run(args: readonly string[], opts?: CliOptions): Promise<CliResult>;
  /** Writes files (path → content) under `dir/name` and returns that directory. */
  context(name: string, files: Readonly<Record<string, string>>): Promise<string>;
  cleanup(): Promise<void>;
}

export async function makeBuildEnv(): Promise<BuildEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-it-'));
  const root = join(dir, 'root');
  const run = (args: readonly string[], opts: CliOptions = {}): Promise<CliResult> => runTsbuild(['--root', root, ...args], opts);
  const imp = await run(['image', 'import', await busyboxTar(), BASE]);
  if (imp.code !== 0) throw new Error(`image import failed: ${imp.stderr}`);
  return {
    dir,
    root,
    run,
    async context(name, files) {
      const ctx = join(dir, name);
      for (const [p, content] of Object.entries(files)) {
        await mkdir(dirname(join(ctx, p)), { recursive: true });
        await writeFile(join(ctx, p), content);
      }
      await mkdir(ctx, { recursive: true });
      return ctx;
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A suite of real builds: skipped (visibly) without root or runc. */
export function describeBuilds(name: string, fn: () => void): void {
  describeIf(isRoot && haveBinary('runc'), 'needs root and runc', name, fn);
}

/**
 * A fresh BuildEnv for the enclosing describe block: made in beforeAll; afterAll checks that nothing
 * is left mounted under it and removes it. The returned object is usable inside tests.
 */
export function useBuildEnv(): BuildEnv {
  let env: BuildEnv | undefined;
  // Generous: making the busybox image and importing it waits on a busy machine's CPU.
  beforeAll(async () => {
    env = await makeBuildEnv();
  }, 300_000);
  afterAll(async () => {
    if (!env) return;
    expect(await mountsUnder(env.dir)).toEqual([]);
    await env.cleanup();
  }, 120_000);
  const get = (): BuildEnv => {
    if (!env) throw new Error('the build environment is only ready inside tests');
    return env;
  };
  return {
    get dir() {
      return get().dir;
    },
    get root() {
      return get().root;
    },
    run: (args, opts) => get().run(args, opts),
    context: (name, files) => get().context(name, files),
    cleanup: () => get().cleanup(),
  };
}

/** Mount points at or below `dir` (the test must leave none). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

export interface RawVertex {
  readonly digest: string;
  readonly name: string;
  cached: boolean;
  started?: number;
  completed?: number;
  error?: string;
}

/** Vertices of a `--progress=rawjson` run, by name. */
export function rawVertices(stderr: string): Map<string, RawVertex> {
  const out = new Map<string, RawVertex>();
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const ev = JSON.parse(line) as { type: string; digest?: string; name?: string; state?: string; started?: number; completed?: number; error?: string };
    if (ev.type !== 'vertex' || !ev.name || !ev.digest) continue;
    const v = out.get(ev.name) ?? { digest: ev.digest, name: ev.name, cached: false };
    if (ev.state === 'cached') v.cached = true;
    if (ev.started !== undefined) v.started = ev.started;
    if (ev.completed !== undefined) v.completed = ev.completed;
    if (ev.error !== undefined) v.error = ev.error;
    out.set(ev.name, v);
  }
  return out;
}

/** The final `{"type":"summary"}` line of a rawjson run. */
export function rawSummary(stderr: string): { total: number; cached: number; executed: number } {
  const line = stderr.split('\n').reverse().find((l) => l.includes('"type":"summary"'));
  if (!line) throw new Error(`no summary in output:\n${stderr}`);
  return JSON.parse(line) as { total: number; cached: number; executed: number };
}
