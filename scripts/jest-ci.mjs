#!/usr/bin/env node
// The whole Jest suite in two phases. The test files that drive a real dockerd (the compat suite,
// docker interop, the comparison benchmarks) run last and one at a time, with nothing of tsbuild
// running beside them, so that Docker, the reference, is measured undisturbed. (A tsbuild bug once
// made Docker fail beside tsbuild builds: slirp4netns' sandbox unmounted dockerd's shared mounts;
// fixed, with its own test in test/worker/exec/sandbox-propagation.test.ts.) Both phases always
// run; the exit code is non-zero if either failed. Extra arguments go to both Jest invocations.
import { spawnSync } from 'node:child_process';

const DOCKER_TESTS = [
  'test/compat/',
  'test/integration/images/docker-interop.test.ts',
  'test/bench/bench-run.test.ts',
];
const jest = ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js'];
const extra = process.argv.slice(2);
const run = (args) => spawnSync(process.execPath, [...jest, ...args, ...extra], { stdio: 'inherit' }).status ?? 1;

process.stdout.write('jest phase 1 of 2: everything but the tests that drive dockerd\n');
const first = run(DOCKER_TESTS.map((t) => `--testPathIgnorePatterns=${t}`));
process.stdout.write('jest phase 2 of 2: the tests that drive dockerd, one file at a time\n');
const second = run(['--runInBand', ...DOCKER_TESTS]);
process.exitCode = first !== 0 ? first : second;
