/**
 * tsbuild's own native module (native/tsbuild_sys.c, built by `npm run build`): mount(2),
 * umount2(2), utimensat(2) on a link itself to the nanosecond, mknod(2) — the calls Node has no API
 * for — a batch copy of small files on the thread pool (src/worker/fileop/file-batch.ts), and a
 * spawn that does not fork the daemon (src/util/native-spawn.ts). Without it each was a child process (mount(8), umount(8), touch(1), mknod(1)), and a spawn
 * stops the daemon's event loop while its whole address space is forked: 10-30 ms per call here.
 *
 * Loaded on first use, from `native/build/Release/` found by walking up from this module (the same
 * file serves src/ under Jest, dist/src/ and the bundles in dist/bin/). When it is missing (a tree
 * built without a compiler) or `TSBUILD_NATIVE=0`, `nativeSys()` is undefined and callers use the
 * child-process way; `nativeSysProblem()` says why, for `tsbuild info` and the tests.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeSys {
  /** mount(2) with the relative paths in `data` resolved against `cwd` (null: the process's). */
  mount(cwd: string | null, source: string, target: string, fstype: string, flags: number, data: string | null): Promise<void>;
  /** umount2(2). */
  umount(target: string, flags: number): Promise<void>;
  /** utimensat(2) with AT_SYMLINK_NOFOLLOW: `path`'s own times, to the nanosecond. */
  lutimes(path: string, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void;
  /** mknod(2); `mode` includes the file type bits. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /**
   * Copies a batch of regular files with their metadata on one thread-pool thread; what `paths` and
   * `meta` hold is described in src/worker/fileop/file-batch.ts. Resolves to null when every file
   * was copied, else to an array holding each failed file's error at its index. Missing from a
   * module built before it existed (callers then copy from JavaScript).
   */
  copyFiles?(paths: string, meta: Float64Array): Promise<readonly (Error | undefined)[] | null>;
  /** A child process without a fork of the daemon (native/spawn.c; src/util/native-spawn.ts). Missing from older builds. */
  spawn?: NativeSpawn;
}

/**
 * Starts `file` (argv[0] included in `argv`) with fds 0.. as `stdio` says (0 /dev/null, 1 a pipe the
 * child writes, 2 a socket pair), in its own session if `setsid`. Returns the pid, then the parent's
 * end per fd (-1 for /dev/null). `onExit` runs on the event loop once the child has been reaped:
 * its exit code or -1, and the signal that ended it or 0. Throws (ENOENT…) when it cannot exec.
 */
export type NativeSpawn = (file: string, argv: readonly string[], env: readonly string[], stdio: readonly number[], setsid: boolean, onExit: (code: number, signal: number) => void) => number[];

/** umount2 flag: detach now, free when no longer busy. */
export const MNT_DETACH = 2;

const BUILD_DIR = join('native', 'build', 'Release');
const FILE = join(BUILD_DIR, 'tsbuild_sys.node');

let loaded: { readonly sys: NativeSys | undefined; readonly problem: string | undefined } | undefined;

function find(file: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, file);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * A program `npm run build` compiled beside the module (native/build/Release/NAME), found the same
 * way; undefined when it is missing or TSBUILD_NATIVE=0.
 */
export function nativeProgram(name: string): string | undefined {
  if (process.env['TSBUILD_NATIVE'] === '0') return undefined;
  return find(join(BUILD_DIR, name));
}

function load(): NonNullable<typeof loaded> {
  if (process.env['TSBUILD_NATIVE'] === '0') return { sys: undefined, problem: 'disabled by TSBUILD_NATIVE=0' };
  const file = find(FILE);
  if (file === undefined) return { sys: undefined, problem: `${FILE} not found (run npm run build)` };
  try {
    return { sys: createRequire(import.meta.url)(file) as NativeSys, problem: undefined };
  } catch (e) {
    return { sys: undefined, problem: `cannot load ${file}: ${(e as Error).message}` };
  }
}

/** The native calls, or undefined when the module is not there (callers then spawn). */
export function nativeSys(): NativeSys | undefined {
  return (loaded ??= load()).sys;
}

/** Why `nativeSys()` is undefined; undefined when it is loaded. */
export function nativeSysProblem(): string | undefined {
  return (loaded ??= load()).problem;
}

/** Splits a time in nanoseconds (a Stats' `mtimeNs` bigint) into seconds and nanoseconds. */
export function splitNs(ns: bigint): [number, number] {
  const s = ns / 1_000_000_000n;
  let n = ns % 1_000_000_000n;
  let sec = s;
  if (n < 0n) {
    n += 1_000_000_000n;
    sec -= 1n;
  }
  return [Number(sec), Number(n)];
}
