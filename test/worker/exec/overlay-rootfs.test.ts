/**
 * A RUN on a real overlay mount, as the worker runs it on a snapshot: what the process writes lands
 * in the upper dir, and nothing of the init layer, the mounts or their stubs does — except the
 * runtime's own mount points an image lacks (/dev, /proc, /sys), which stay as Docker leaves them.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import { describeIf } from '../../helpers/skip.js';
import { makeBusyboxRootfs } from './busybox-rootfs.js';
import { canRunContainers, makeExecFixture, mountsUnder, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(relative(base, p) + (e.isDirectory() ? '/' : ''));
    if (e.isDirectory()) out.push(...(await walk(p, base)));
  }
  return out.sort();
}

describeIf(canRunContainers, whyNot, 'RUN on an overlay rootfs', () => {
  let f: ExecFixture;
  let lower: string;
  let upper: string;
  let merged: string;
  let executor: RuncExecutor;

  async function mountOverlay(systemDirs: boolean): Promise<void> {
    lower = join(f.dir, 'lower');
    upper = join(f.dir, 'upper');
    merged = join(f.dir, 'merged');
    const work = join(f.dir, 'work');
    await makeBusyboxRootfs(lower, { systemDirs });
    for (const d of [upper, merged, work]) await mkdir(d);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  }

  beforeEach(async () => {
    f = await makeExecFixture();
    executor = new RuncExecutor({ root: f.root });
  });
  afterEach(async () => {
    if (mountsUnder(f.dir).includes(merged)) execFileSync('umount', [merged]);
    await f.dispose();
  });

  test('an image without /proc, /dev, /sys or /etc/hosts: the written files and the runtime\'s mount points reach the upper dir', async () => {
    await mountOverlay(false);
    const cache = join(f.dir, 'cache');
    await mkdir(cache);
    await executor.run({
      rootfs: merged,
      args: ['/bin/sh', '-c', [
        'echo data > /out.txt',
        'cat /etc/hosts /etc/resolv.conf /etc/hostname /run/secrets/s > /dev/null',
        'echo c > /root/.cache/c',
        'echo t > /mnt/tmp/t',
      ].join(' && ')],
      env: [],
      network: 'none',
      mounts: [
        { kind: 'secret', target: '/run/secrets/s', data: Buffer.from('x'), mode: 0o400, uid: 0, gid: 0 },
        { kind: 'bind', source: cache, target: '/root/.cache', writes: 'persist' },
        { kind: 'tmpfs', target: '/mnt/tmp' },
      ],
      signal: AbortSignal.timeout(30_000),
    });
    // /etc and /root are copied up because stubs were made in them, but hold nothing; /dev, /proc
    // and /sys stay empty, as Docker's runtime leaves them (no init layer here: the stubs made them).
    expect(await walk(upper)).toEqual(['dev/', 'etc/', 'out.txt', 'proc/', 'root/', 'sys/']);
    expect(await readdir(cache)).toEqual(['c']);
    // The copied-up directories keep the lower dir's mtime, so a differ can tell they are unchanged.
    expect(Math.abs((await stat(join(upper, 'etc'))).mtimeMs - (await stat(join(lower, 'etc'))).mtimeMs)).toBeLessThan(0.005);
    execFileSync('umount', [merged]);
    await f.assertClean();
  });

  test('an image with the usual files: the upper dir gets exactly what RUN wrote', async () => {
    await mountOverlay(true);
    await executor.run({
      rootfs: merged,
      args: ['/bin/sh', '-c', 'echo data > /out.txt; mkdir -p /opt/app && echo 1 > /opt/app/v; echo 127.0.0.2 extra >> /etc/hosts'],
      env: [],
      network: 'none',
      cwd: '/srv/app',
      signal: AbortSignal.timeout(30_000),
    });
    // /srv/app is the created working directory, which Docker keeps.
    expect(await walk(upper)).toEqual(['opt/', 'opt/app/', 'opt/app/v', 'out.txt', 'srv/', 'srv/app/']);
    execFileSync('umount', [merged]);
    await rm(merged, { recursive: true });
    await f.assertClean();
  });
});
