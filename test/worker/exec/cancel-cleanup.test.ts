/**
 * Nothing is left behind: after an abort (at any moment), after a failing command, and after an
 * engine died mid-run (stale-run cleanup). "Nothing" = no runc container, no cgroup, no mount
 * under the test dir, no bundle in ROOT/tmp.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CancelledError } from '../../../src/util/errors.js';
import { ExecFailedError } from '../../../src/worker/exec/errors.js';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import type { ExecMount } from '../../../src/worker/exec/types.js';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, cgroupDirsFromInside, makeExecFixture, mountsUnder, runcList, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describeIf(canRunContainers, whyNot, 'cancellation and cleanup', () => {
  let f: ExecFixture;
  let src: string;
  beforeEach(async () => {
    f = await makeExecFixture();
    src = join(f.dir, 'src');
    await mkdir(src);
  });
  afterEach(async () => {
    await f.dispose();
  });

  /** Mounts that put something on the host for the run: a secret tmpfs, an overlay upper, a proxy socket. */
  function busyMounts(): ExecMount[] {
    return [
      { kind: 'secret', target: '/run/secrets/s', data: Buffer.from('x'), mode: 0o400, uid: 0, gid: 0 },
      { kind: 'bind', source: src, target: '/src', writes: 'discard' },
      { kind: 'tmpfs', target: '/scratch' },
    ];
  }

  test('abort while the process runs: killed, rejected with CancelledError, everything removed', async () => {
    const ac = new AbortController();
    let cgroupText = '';
    const run = f.run(['/bin/sh', '-c', 'cat /proc/self/cgroup; echo started; sleep 100'], {
      mounts: busyMounts(),
      signal: ac.signal,
      onLog: (l) => {
        if (l.text === 'started') ac.abort(new Error('user pressed ^C'));
        else cgroupText += `${l.text}\n`;
      },
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).message).toBe('cancelled: user pressed ^C');
    const dirs = await cgroupDirsFromInside(cgroupText);
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect(existsSync(join(f.rootfs, 'run'))).toBe(false);
    expect(existsSync(join(f.rootfs, 'scratch'))).toBe(false);
    await f.assertClean();
  });

  test.each([0, 5, 20, 60, 150])('abort %i ms after the start, wherever setup is, leaves nothing', async (ms) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), ms);
    const err = await f.run(['/bin/sleep', '100'], { mounts: busyMounts(), signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    await f.assertClean();
    expect(await readdir(f.rootfs)).not.toContain('scratch');
  });

  test('an already aborted signal starts nothing', async () => {
    await expect(f.run(['/bin/true'], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(CancelledError);
    await f.assertClean();
  });

  test('a failing command leaves nothing either', async () => {
    const lines: string[] = [];
    const err = await f.run(['/bin/sh', '-c', 'cat /proc/self/cgroup; exit 7'], { mounts: busyMounts(), onLog: (l) => lines.push(l.text) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    for (const d of await cgroupDirsFromInside(lines.join('\n'))) expect(existsSync(d)).toBe(false);
    await f.assertClean();
  });

  test('runs of a dead engine are cleaned up by the next one; runs of live engines are not', async () => {
    const ac = new AbortController();
    let started!: () => void;
    const isStarted = new Promise<void>((r) => { started = r; });
    const run = f.run(['/bin/sh', '-c', 'echo started; sleep 100'], {
      mounts: busyMounts(),
      signal: ac.signal,
      onLog: (l) => { if (l.text === 'started') started(); },
    }).catch((e: unknown) => e);
    await isStarted;
    const tmp = join(f.root, 'tmp');
    const [bundleName] = await readdir(tmp);
    const bundle = join(tmp, bundleName as string);
    expect(mountsUnder(bundle)).toHaveLength(1); // the secret tmpfs

    // A live engine's run (ours) is left alone.
    const next = new RuncExecutor({ root: f.root });
    expect(await next.cleanupStale({ signal: AbortSignal.timeout(30_000) })).toEqual({ bundles: [], containers: [] });
    expect(runcList(join(f.root, 'runc'))).toHaveLength(1);

    // Pretend the owning engine died: its pid is now a process that has exited.
    const owner = JSON.parse(await readFile(join(bundle, 'owner.json'), 'utf8')) as { id: string };
    const deadPid = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
    await writeFile(join(bundle, 'owner.json'), JSON.stringify({ ...owner, pid: deadPid, startTime: '1' }));
    const report = await next.cleanupStale({ signal: AbortSignal.timeout(30_000) });
    expect(report).toEqual({ bundles: [bundle], containers: [owner.id] });
    expect(runcList(join(f.root, 'runc'))).toEqual([]);
    expect(mountsUnder(f.dir)).toEqual([]);
    expect(existsSync(bundle)).toBe(false);

    // The original run notices its container died.
    expect(await run).toBeInstanceOf(ExecFailedError);
    await f.assertClean();
  });

  test('a bundle gone between the listing and its check (another engine removed it) is skipped, not an error', async () => {
    // A dangling link stands in for the race: listed in ROOT/tmp, no owner file, stat says ENOENT.
    // Three builds at once on one data root failed this way (ENOENT, stat '…/tmp/exec-…').
    const tmp = join(f.root, 'tmp');
    await mkdir(tmp, { recursive: true });
    await symlink(join(f.dir, 'removed-meanwhile'), join(tmp, 'exec-gone'));
    const next = new RuncExecutor({ root: f.root });
    expect(await next.cleanupStale({ signal: AbortSignal.timeout(30_000) })).toEqual({ bundles: [], containers: [] });
  });
});
