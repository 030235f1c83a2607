/**
 * `RuncExecutor.prepare`: the part of a run that needs no rootfs (bundle, init files, cgroup
 * layout) is made first, so the exec op can overlap it with preparing and mounting the snapshot;
 * the prepared run is then run once or discarded, and either way leaves nothing behind.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecFailedError } from '../../../src/worker/exec/errors.js';
import type { ExecLogLine } from '../../../src/worker/exec/types.js';
import { countPoolTrips } from '../../helpers/pool-trips.js';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, cgroupDirsFromInside, makeExecFixture, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describeIf(canRunContainers, whyNot, 'prepared runs', () => {
  let f: ExecFixture;
  beforeEach(async () => {
    f = await makeExecFixture();
  });
  afterEach(async () => {
    await f.dispose();
  });

  const bundles = async (): Promise<string[]> => readdir(join(f.root, 'tmp'));

  test('the bundle is made before the rootfs exists; the run streams output, a non-zero exit rejects, nothing is left', async () => {
    const rootfs = join(f.dir, 'mounted-later');
    const signal = AbortSignal.timeout(60_000);
    const p = await f.executor.prepare({ hostname: 'early', network: 'none', extraHosts: [{ host: 'reg.local', ip: '10.9.8.7' }], signal });
    const made = await bundles();
    expect(made).toHaveLength(1);
    expect(await readFile(join(f.root, 'tmp', made[0] as string, 'hostname'), 'utf8')).toBe('early\n');
    // The rootfs only now appears where the run is told to find it.
    await rename(f.rootfs, rootfs);
    const lines: ExecLogLine[] = [];
    const err = await p
      .run({ rootfs, args: ['/bin/sh', '-c', 'hostname; tail -n 1 /etc/hosts; echo bad >&2; exit 5'], env: [], onLog: (l) => lines.push(l) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    expect((err as ExecFailedError).exitCode).toBe(5);
    // In order on each stream; between stdout's and stderr's pipes the order is the reader's (as Docker's).
    expect(lines.filter((l) => l.stream === 1).map((l) => l.text)).toEqual(['early', '10.9.8.7\treg.local']);
    expect(lines.filter((l) => l.stream === 2).map((l) => l.text)).toEqual(['bad']);
    await f.assertClean();
    // Settled: discarding does nothing, running again is refused.
    await p.discard();
    await expect(p.run({ rootfs, args: ['/bin/true'], env: [] })).rejects.toThrow('a prepared run runs once');
    await f.assertClean();
  });

  test('prepare makes the bundle without a thread-pool trip (it is on every RUN\'s critical path)', async () => {
    const signal = AbortSignal.timeout(60_000);
    // The host facts are read once per executor, on its first prepare.
    await (await f.executor.prepare({ network: 'none', signal })).discard();
    const { result: p, trips } = await countPoolTrips(() => f.executor.prepare({ hostname: 'sync', network: 'none', extraHosts: [{ host: 'a.local', ip: '10.1.2.3' }], signal }));
    expect(trips).toEqual([]);
    const made = await bundles();
    expect(made).toHaveLength(1);
    const dir = join(f.root, 'tmp', made[0] as string);
    expect((await readdir(dir)).sort()).toEqual(['hostname', 'hosts', 'owner.json', 'resolv.conf']);
    expect(await readFile(join(dir, 'hosts'), 'utf8')).toContain('10.1.2.3\ta.local');
    await p.discard();
    await f.assertClean();
  });

  test('a prepared run that succeeds releases its bundle and its cgroups (the directories read at prepare)', async () => {
    const p = await f.executor.prepare({ network: 'none', signal: AbortSignal.timeout(60_000) });
    const lines: ExecLogLine[] = [];
    await p.run({ rootfs: f.rootfs, args: ['/bin/sh', '-c', 'hostname; cat /proc/self/cgroup'], env: [], onLog: (l) => lines.push(l) });
    const [hostname, ...cgroup] = lines.map((l) => l.text);
    expect(hostname).toBe('tsbuildsandbox');
    const dirs = await cgroupDirsFromInside(cgroup.join('\n'));
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    await f.assertClean();
  });

  test('discard releases a run that never ran; twice is fine', async () => {
    const p = await f.executor.prepare({ network: 'none', signal: AbortSignal.timeout(60_000) });
    expect(await bundles()).toHaveLength(1);
    await p.discard();
    await p.discard();
    await f.assertClean();
    await expect(p.run({ rootfs: f.rootfs, args: ['/bin/true'], env: [] })).rejects.toThrow('a prepared run runs once');
  });

  test('a prepare that fails (bad hostname, bad extra host) removes what it made', async () => {
    const signal = AbortSignal.timeout(60_000);
    await expect(f.executor.prepare({ hostname: 'bad host', network: 'none', signal })).rejects.toThrow('invalid hostname "bad host"');
    await expect(f.executor.prepare({ network: 'none', extraHosts: [{ host: 'x', ip: 'nope' }], signal })).rejects.toThrow('invalid IP address "nope"');
    await f.assertClean();
  });

  test('a prepare under an aborted signal is cancelled before it makes anything', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(f.executor.prepare({ network: 'none', signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    await f.assertClean();
  });
});
