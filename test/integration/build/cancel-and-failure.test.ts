/**
 * Failures and cancellation leave nothing behind: no mount, no runc container, no active snapshot;
 * the cache stays consistent and the next build reuses the steps that finished.
 */
import { expect, test } from '@jest/globals';
import { spawn, execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cliPath } from '../../helpers/paths.js';
import { describeBuilds, useBuildEnv, mountsUnder, rawVertices } from '../../helpers/build-env.js';

function runcContainers(root: string): string[] {
  try {
    return execFileSync('runc', ['--root', join(root, 'runc'), 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function activeSnapshots(root: string): Promise<string[]> {
  const dir = join(root, 'overlay2');
  const out: string[] = [];
  for (const id of await readdir(dir).catch(() => [] as string[])) {
    const entries = await readdir(join(dir, id)).catch(() => [] as string[]);
    if (entries.includes('merged') || entries.includes('work')) {
      // work/ exists for active snapshots only until commit; merged/ must never stay mounted.
      if ((await mountsUnder(join(dir, id))).length) out.push(id);
    }
  }
  return out;
}

describeBuilds('failure and cancellation', () => {
  const env = useBuildEnv();

  test('a failing RUN is one error naming the command, exit code and Dockerfile line; nothing is left mounted', async () => {
    const ctx = await env.context('fail', {
      Dockerfile: ['FROM localhost/busybox:latest', 'RUN echo before', 'RUN echo oops >&2 && exit 3', ''].join('\n'),
    });
    const r = await env.run(['build', '--progress=plain', ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('oops');
    expect(r.stderr).toMatch(/Dockerfile:3:\d+: .*exit code: 3/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await mountsUnder(env.dir)).toEqual([]);
    expect(runcContainers(env.root)).toEqual([]);
  });

  test('SIGINT during a RUN stops it, undoes every mount, and the next build reuses finished steps', async () => {
    const ctx = await env.context('cancel', {
      Dockerfile: ['FROM localhost/busybox:latest', 'RUN echo first > /first', 'RUN echo sleeping && sleep 60', ''].join('\n'),
    });
    const child = spawn(process.execPath, [cliPath, '--root', env.root, 'build', '--progress=rawjson', ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the RUN never started:\n${stderr}`)), 60_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('sleeping')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    const code = await exited;
    expect(code).not.toBe(0);
    expect(await mountsUnder(env.dir)).toEqual([]);
    expect(runcContainers(env.root)).toEqual([]);
    expect(await activeSnapshots(env.root)).toEqual([]);
    // The cancelled build is in the history, its running step marked canceled.
    const why = await env.run(['history', '--why']);
    expect(why.code).toBe(0);
    expect(why.stdout).toMatch(/^build [0-9a-f]+ \(.*Dockerfile\) cancelled in [\d.]+s: 3 steps/m);
    expect(why.stdout).toMatch(/^RUN echo sleeping && sleep 60: canceled$/m);

    const ctx2 = await env.context('cancel2', {
      Dockerfile: ['FROM localhost/busybox:latest', 'RUN echo first > /first', 'RUN test -f /first', ''].join('\n'),
    });
    const r = await env.run(['build', '--progress=rawjson', ctx2]);
    expect(r.code).toBe(0);
    expect(rawVertices(r.stderr).get('[2/3] RUN echo first > /first')?.cached).toBe(true);
  }, 120_000);

  // A closed terminal (SIGHUP) and a service manager's stop (SIGTERM) cancel like Ctrl-C; SIGHUP
  // used to kill the process with the RUN's overlay mount still in place.
  test.each(['SIGHUP', 'SIGTERM'] as const)('%s during a RUN cancels like SIGINT: exit 130, nothing left mounted or running', async (sig) => {
    const ctx = await env.context(`cancel-${sig}`, {
      Dockerfile: ['FROM localhost/busybox:latest', `RUN echo ${sig} && sleep 60`, ''].join('\n'),
    });
    const child = spawn(process.execPath, [cliPath, '--root', env.root, 'build', '--progress=plain', ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the RUN never started:\n${stderr}`)), 60_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        // The RUN's own output line (`#3 0.104 SIGHUP`), not the step's title.
        if (new RegExp(`^#\\d+ \\d+\\.\\d+ ${sig}$`, 'm').test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill(sig);
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/CANCELED|cancel/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(await mountsUnder(env.dir)).toEqual([]);
    expect(runcContainers(env.root)).toEqual([]);
    expect(await activeSnapshots(env.root)).toEqual([]);
  }, 120_000);

  test('two tsbuild processes on one data root at the same time both succeed', async () => {
    const mk = (n: number): Promise<string> =>
      env.context(`conc${n}`, { Dockerfile: ['FROM localhost/busybox:latest', 'RUN echo shared > /shared', `RUN echo ${n} > /n`, ''].join('\n') });
    const [c1, c2] = await Promise.all([mk(1), mk(2)]);
    const [r1, r2] = await Promise.all([env.run(['build', '--progress=plain', '-t', 'c1', c1]), env.run(['build', '--progress=plain', '-t', 'c2', c2])]);
    expect(r1.stderr).not.toContain('ERROR');
    expect(r2.stderr).not.toContain('ERROR');
    expect([r1.code, r2.code]).toEqual([0, 0]);
  }, 120_000);
});
