/**
 * Strict mode and the skip reporter, end to end: Jest runs on the fixtures in fixtures/strict with
 * and without TSBUILD_STRICT_TESTS=1. Locally, unmet requirements skip visibly and the run passes;
 * in strict mode every skip, and a missing requirement in the global setup, fails the run.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { STRICT_ENV } from '../helpers/requirements.mjs';

const fixtures = join(repoRoot, 'test', 'meta', 'fixtures', 'strict');
const jestBin = join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js');

interface JestRun {
  readonly code: number | null;
  /** stdout and stderr together (Jest reports on stderr). */
  readonly output: string;
}

function runJest(args: readonly string[], env: Record<string, string>): Promise<JestRun> {
  const base: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '--experimental-vm-modules' };
  // The outer run may itself be strict (CI) or point the anchors elsewhere; each case sets its own.
  delete base[STRICT_ENV];
  delete base.TSBUILD_ANCHORS_DIR;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [jestBin, '--config', join(fixtures, 'jest.config.mjs'), '--colors=false', ...args], {
      cwd: fixtures,
      env: { ...base, ...env },
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe('strict test mode', () => {
  // The four Jest runs are independent; start them together (each takes a few seconds).
  let runs: Record<'local' | 'conditional' | 'plainSkip' | 'setup', Promise<JestRun>>;
  beforeAll(() => {
    runs = {
      local: runJest([], {}),
      conditional: runJest(['conditional'], { [STRICT_ENV]: '1' }),
      plainSkip: runJest(['plain-skip'], { [STRICT_ENV]: '1' }),
      setup: runJest(['--globalSetup', join(repoRoot, 'test', 'helpers', 'global-setup.mjs')], { [STRICT_ENV]: '1', TSBUILD_ANCHORS_DIR: '/nonexistent/anchors' }),
    };
    // Each test awaits its own run; keep a failed one from being an unhandled rejection meanwhile.
    for (const p of Object.values(runs)) p.catch(() => undefined);
  });

  test('without it, unmet requirements skip visibly and the run passes', async () => {
    const r = await runs.local;
    expect(r.output).toContain('SKIPPED a suite that needs a unicorn: needs a unicorn');
    expect(r.output).toContain('SKIPPED part an extra check: needs a third unicorn');
    expect(r.output).toMatch(/SKIPPED 4 of 7 tests \(TSBUILD_STRICT_TESTS=1 makes skips fail\):/);
    for (const reason of ['needs a unicorn', 'needs a second unicorn', 'test.todo', 'no reason given']) {
      expect(r.output).toMatch(new RegExp(`\\n {2}1 × ${reason}`));
    }
    expect(r.code).toBe(0);
  }, 60_000);

  test('an unmet describeIf, testIf or partIf is a failing test that names what is missing', async () => {
    const r = await runs.conditional;
    expect(r.output).toContain('strict mode (TSBUILD_STRICT_TESTS=1): "a suite that needs a unicorn" cannot run: needs a unicorn');
    expect(r.output).toContain('strict mode (TSBUILD_STRICT_TESTS=1): "a test that needs a unicorn" cannot run: needs a second unicorn');
    expect(r.output).toContain('strict mode (TSBUILD_STRICT_TESTS=1): an extra check cannot run: needs a third unicorn');
    expect(r.output).toMatch(/Tests: +3 failed, 1 passed, 4 total/);
    expect(r.code).toBe(1);
  }, 60_000);

  test('any skipped or todo test fails the run, and the reporter lists each', async () => {
    const r = await runs.plainSkip;
    expect(r.output).toContain('STRICT: 2 test(s) did not run; in strict mode (TSBUILD_STRICT_TESTS=1) any skip fails the run:');
    expect(r.output).toContain('plain-skip.fixture.ts › a forgotten skip [no reason given');
    expect(r.output).toContain('plain-skip.fixture.ts › a todo [test.todo]');
    expect(r.output).toMatch(/Tests: +1 skipped, 1 todo, 1 passed, 3 total/);
    expect(r.code).toBe(1);
  }, 60_000);

  test('a missing requirement stops the run in the global setup, one line per missing thing', async () => {
    const r = await runs.setup;
    expect(r.output).toContain('MISSING anchors folder (/nonexistent/anchors): ');
    expect(r.output).toContain('test requirement(s) missing, listed above; no test was run');
    expect(r.output).not.toContain('Tests:');
    expect(r.code).toBe(1);
  }, 60_000);
});
