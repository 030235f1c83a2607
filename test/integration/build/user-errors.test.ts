/**
 * Every error a user can cause is one clear error line naming the file, line and reason, exit code 1,
 * no stack trace (unless --debug): missing context, bad Dockerfile, unknown target, failing RUN
 * (cancel-and-failure.test.ts), COPY of a missing file, a file excluded by .dockerignore; a missing
 * runc is detected up front with the command that fixes it.
 */
import { expect, test } from '@jest/globals';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import type { CliResult } from '../../helpers/cli.js';

function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('error: '));
}

function expectOneError(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = errorLines(r);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
}

describeBuilds('user errors through the CLI', () => {
  const env = useBuildEnv();

  test('a missing context', async () => {
    expectOneError(await env.run(['build', `${env.dir}/no-such-dir`]), /unable to prepare context: path ".*no-such-dir" not found/);
  });

  test('a missing Dockerfile', async () => {
    const ctx = await env.context('nodockerfile', { 'a.txt': 'a' });
    expectOneError(await env.run(['build', ctx]), /failed to read dockerfile: open .*Dockerfile: no such file or directory/);
  });

  test('a bad Dockerfile: located error with did-you-mean, and the offending line shown', async () => {
    const ctx = await env.context('badflag', { Dockerfile: 'FROM localhost/busybox:latest\nCOPY --chmodd=644 a b\n' });
    const r = await env.run(['build', '--progress=quiet', ctx]);
    expectOneError(r, /Dockerfile:2:6: unknown flag --chmodd for COPY \(did you mean --chmod\?\)/);
    expect(r.stderr).toContain(' 2 | COPY --chmodd=644 a b');
  });

  test('a syntax error from the parser', async () => {
    const ctx = await env.context('syntax', { Dockerfile: 'FROM localhost/busybox:latest\nRUN <<EOF\necho never terminated\n' });
    expectOneError(await env.run(['build', '--progress=quiet', ctx]), /Dockerfile:2:\d+: .*unterminated heredoc/);
  });

  test('an unknown target suggests the closest stage', async () => {
    const ctx = await env.context('target', { Dockerfile: 'FROM localhost/busybox:latest AS builder\nRUN true\n' });
    expectOneError(await env.run(['build', '--progress=quiet', '--target', 'buidler', ctx]), /target stage "buidler" could not be found.*did you mean builder/i);
  });

  test('COPY of a missing file names the file and the Dockerfile line', async () => {
    const ctx = await env.context('missing', { Dockerfile: 'FROM localhost/busybox:latest\nCOPY nothere.txt /x\n' });
    expectOneError(await env.run(['build', '--progress=quiet', ctx]), /Dockerfile:2:1: .*"\/nothere.txt" not found/);
  });

  test('COPY of a file excluded by .dockerignore says so', async () => {
    const ctx = await env.context('ignored', { Dockerfile: 'FROM localhost/busybox:latest\nCOPY secret.txt /x\n', 'secret.txt': 's', '.dockerignore': 'secret.txt\n' });
    expectOneError(await env.run(['build', '--progress=quiet', ctx]), /Dockerfile:2:1: .*"\/secret.txt" not found: it is excluded by \.dockerignore/);
  });

  test('--debug adds the stack', async () => {
    const ctx = await env.context('debug', { Dockerfile: 'FROM localhost/busybox:latest\nCOPY nothere.txt /x\n' });
    const r = await env.run(['build', '--debug', '--progress=quiet', ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  test('a missing runc is detected before anything runs, with the fix', async () => {
    const ctx = await env.context('norunc', { Dockerfile: 'FROM localhost/busybox:latest\nRUN true\n' });
    const r = await env.run(['build', ctx], { env: { PATH: '/nonexistent' } });
    expectOneError(r, /runc was not found on PATH; install it with: apt-get install runc/);
    // Before anything runs: no progress display was started, so nothing else is printed.
    expect(r.stderr).toBe('error: runc was not found on PATH; install it with: apt-get install runc\n');
  });

  test('unknown flags and commands are usage errors (exit 2)', async () => {
    const r = await env.run(['build', '--frobnicate', '.']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
