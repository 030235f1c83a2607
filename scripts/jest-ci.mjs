#!/usr/bin/env node
// The whole Jest suite in two phases. The test files that drive a real dockerd (the compat suite,
// docker interop, the comparison benchmarks) run last and one at a time, with nothing of tsbuild
// running beside them, so that Docker, the reference, is measured undisturbed. (A tsbuild bug once
// made Docker fail beside tsbuild builds: slirp4netns' sandbox unmounted dockerd's shared mounts;
// fixed, with its own test in test/worker/exec/sandbox-propagation.test.ts.) Both phases always
// run; the exit code is non-zero if either failed. Extra arguments go to both Jest invocations.
//
// In strict mode (TSBUILD_STRICT_TESTS=1, as .ci/run sets it) phase 2 runs with qemu's binfmt_misc
// emulators switched off, except for the one file that builds for arm64 beside Docker: Docker
// 20.10's BuildKit runs every registered emulator on each build (~30 with qemu-user-static), which
// made the Docker suites 3-4x slower. It is machine-wide, so it is done only in strict mode, where
// nothing else runs beside phase 2; the emulators are registered again before that file and at the
// end, also when a phase failed.
import { spawnSync } from 'node:child_process';

const ARM64_DOCKER_TEST = 'test/compat/platform-arm64.test.ts';
const DOCKER_TESTS = [
  'test/compat/',
  'test/integration/images/docker-interop.test.ts',
  'test/bench/bench-run.test.ts',
];
const jest = ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js'];
const extra = process.argv.slice(2);
const run = (args, env = {}) => spawnSync(process.execPath, [...jest, ...args, ...extra], { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

process.stdout.write('jest phase 1 of 2: everything but the tests that drive dockerd\n');
const first = run(DOCKER_TESTS.map((t) => `--testPathIgnorePatterns=${t}`));
process.stdout.write('jest phase 2 of 2: the tests that drive dockerd, one file at a time\n');
let second;
if (process.env.TSBUILD_STRICT_TESTS === '1') {
  const binfmt = (...args) => spawnSync('bash', ['scripts/setup-binfmt.sh', ...args], { stdio: 'inherit' }).status ?? 1;
  try {
    if (binfmt('--off') !== 0) process.stdout.write('jest phase 2: could not switch the emulators off; Docker runs with them\n');
    // The ignore pattern goes last: Jest's array options take the positional patterns after them.
    // TSBUILD_TEST_EMULATORS_OFF: strict mode's requirement check (test/helpers/requirements.mjs)
    // does not ask for the registrations this run switched off on purpose.
    const docker = run(['--runInBand', ...DOCKER_TESTS, `--testPathIgnorePatterns=${ARM64_DOCKER_TEST}`], { TSBUILD_TEST_EMULATORS_OFF: '1' });
    const on = binfmt();
    const arm64 = run(['--runInBand', ARM64_DOCKER_TEST]);
    second = docker !== 0 ? docker : on !== 0 ? on : arm64;
  } finally {
    binfmt();
  }
} else {
  second = run(['--runInBand', ...DOCKER_TESTS]);
}
process.exitCode = first !== 0 ? first : second;
