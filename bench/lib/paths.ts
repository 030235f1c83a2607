/** Where the benchmarks find the repository: the built CLI, the examples, the scripts. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor holding package.json (works from bench/ and dist/bench/). */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the repository root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const repoRoot = findRepoRoot();
export const cliPath = join(repoRoot, 'dist', 'bin', 'tsbuild.cjs');
export const examplesDir = join(repoRoot, 'examples');
export const busyboxScript = join(repoRoot, 'scripts', 'make-busybox-rootfs.sh');

/** The base image every benchmark Dockerfile starts FROM, in every tool. */
export const BASE_IMAGE = 'localhost/busybox:latest';
