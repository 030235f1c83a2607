/** The private dockerd helper: it serves, runs a container, reports failures, and leaves nothing behind. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../helpers/busybox.js';
import { DockerCommandError, dockerdMissingWhy, haveDockerd, startDockerd, WATCHDOG_SCRIPT } from '../helpers/dockerd.js';
import type { Dockerd } from '../helpers/dockerd.js';
import { describeIf, isRoot, partIf } from '../helpers/skip.js';
import { waitFor } from '../helpers/wait-for.js';
import { makeBaseTar } from './harness/suite.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeIf(haveDockerd && haveBusybox, haveBusybox ? dockerdMissingWhy : 'needs busybox-static', 'startDockerd', () => {
  let d: Dockerd;
  let base: Awaited<ReturnType<typeof makeBaseTar>>;
  beforeAll(async () => {
    base = await makeBaseTar();
    d = await startDockerd();
  }, 120_000);
  afterAll(async () => {
    await d?.stop();
    await base?.cleanup();
  }, 60_000);

  test('serves Docker 20.10 on a socket in its own short dir, with the CLI pointed only at it', async () => {
    expect(d.dir.length).toBeLessThan(30);
    expect(d.host).toBe(`unix://${join(d.dir, 'docker.sock')}`);
    expect(d.env['DOCKER_CONFIG']).toBe(join(d.dir, 'cli'));
    expect((await d.dockerOk(['version', '--format', '{{.Server.Version}}'])).trim()).toMatch(/^20\.10\./);
    expect((await d.dockerOk(['info', '--format', '{{.DockerRootDir}}'])).trim()).toBe(join(d.dir, 'data'));
  });

  test('imports the base image and runs a container from it', async () => {
    await d.dockerOk(['import', base.file, 'localhost/busybox:latest']);
    const out = await d.dockerOk(['run', '--rm', '--network=none', 'localhost/busybox:latest', '/bin/sh', '-c', 'id -u; cat /etc/passwd | wc -l']);
    expect(out.split('\n').slice(0, 2)).toEqual(['0', '3']);
  }, 60_000);

  test('a failing command rejects with the command line and its stderr', async () => {
    const err = await d.dockerOk(['inspect', 'no-such-image-anywhere']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerCommandError);
    expect((err as Error).message).toMatch(/^docker inspect no-such-image-anywhere exited with 1:\n.*No such object/s);
  });

  test('an aborted command is killed and rejects with the reason', async () => {
    const ac = new AbortController();
    const p = d.docker(['run', '--rm', '--network=none', 'localhost/busybox:latest', 'sleep', '30'], { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('enough')), 1500);
    await expect(p).rejects.toThrow('enough');
    // The CLI is gone; the container it started is cleaned up by the daemon's --rm or by stop().
  }, 30_000);

  test('stop() ends dockerd and its containerd, unmounts and removes its dir; twice is fine', async () => {
    const pid = Number((await readFile(join(d.dir, 'docker.pid'), 'utf8')).trim());
    const cpid = Number(readFileSync(join(d.dir, 'exec', 'containerd', 'containerd.pid'), 'utf8').trim());
    expect(alive(pid)).toBe(true);
    expect(alive(cpid)).toBe(true);
    await d.stop();
    await d.stop();
    expect(alive(pid)).toBe(false);
    expect(alive(cpid)).toBe(false);
    expect(existsSync(d.dir)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(d.dir);
  }, 60_000);
});

describe('the dockerd watchdog', () => {
  const exitOf = (c: ChildProcess): Promise<void> => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', () => resolve())));

  /** The watchdog around a stand-in daemon that records its pid and sleeps. */
  async function watched(): Promise<{ dir: string; child: ChildProcess; daemonPid: () => number }> {
    const dir = await mkdtemp('/tmp/tsd-wd-');
    const child = spawn('bash', ['-c', WATCHDOG_SCRIPT, 'watchdog', dir, 'sh', '-c', `echo $$ > ${dir}/daemon.pid; exec sleep 300`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin?.on('error', () => undefined);
    await waitFor(() => existsSync(join(dir, 'daemon.pid')) && readFileSync(join(dir, 'daemon.pid'), 'utf8').trim() !== '', { what: 'the stand-in daemon to write its pid', timeoutMs: 5000 });
    return { dir, child, daemonPid: () => Number(readFileSync(join(dir, 'daemon.pid'), 'utf8').trim()) };
  }

  test('SIGTERM reaches the daemon; the dir is left for stop() to clean', async () => {
    const w = await watched();
    const pid = w.daemonPid();
    w.child.kill('SIGTERM');
    await exitOf(w.child);
    expect(alive(pid)).toBe(false);
    expect(existsSync(w.dir)).toBe(true);
    w.child.stdin?.destroy();
    await rm(w.dir, { recursive: true, force: true });
  }, 15_000);

  test('when the test process goes away (stdin EOF) it stops the daemon, unmounts and removes the dir', async () => {
    const w = await watched();
    const pid = w.daemonPid();
    if (partIf(isRoot, 'bind mounts need root', 'a mount for the watchdog to undo')) {
      await mkdir(join(w.dir, 'src'));
      await mkdir(join(w.dir, 'mnt'));
      execFileSync('mount', ['--bind', join(w.dir, 'src'), join(w.dir, 'mnt')]);
    }
    w.child.stdin?.end();
    await exitOf(w.child);
    expect(alive(pid)).toBe(false);
    expect(existsSync(w.dir)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(w.dir);
  }, 15_000);
});
