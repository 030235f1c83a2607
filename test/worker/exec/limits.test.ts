/** cgroup limits: enforced inside the container, in a per-run cgroup that is gone afterwards. */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { ExecFailedError } from '../../../src/worker/exec/errors.js';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, cgroupDirsFromInside, makeExecFixture, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describeIf(canRunContainers, whyNot, 'resource limits', () => {
  let f: ExecFixture;
  beforeAll(async () => {
    f = await makeExecFixture();
  });
  afterAll(async () => {
    await f.dispose();
  });

  test('ulimits: the process runs with them (soft and hard), and without them with the defaults', async () => {
    const script = ['/bin/sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -c'];
    const limited = await f.run(script, { ulimits: [{ name: 'nofile', soft: 512, hard: 1024 }, { name: 'nproc', soft: 77, hard: 77 }, { name: 'core', soft: 0, hard: 0 }] });
    expect(limited.stdout).toBe('512\n1024\n77\n0\n');
    const free = await f.run(script);
    expect(free.stdout).not.toContain('512\n1024\n');
    await f.assertClean();
  });

  test('pids: a fork bomb hits the limit instead of the machine', async () => {
    const limited = await f.run(['/bin/cat', '/sys/fs/cgroup/pids/pids.max'], { limits: { pids: 16 } });
    expect(limited.stdout).toBe('16\n');
    const bomb = ['/bin/sh', '-c', 'for i in $(seq 1 40); do sleep 5 & done; echo all-started; kill $(jobs -p)'];
    const err = await f.run(bomb, { limits: { pids: 16 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    expect((err as ExecFailedError).detail.join('\n')).toMatch(/can't fork/);
    expect((err as ExecFailedError).detail).not.toContain('all-started');
    const free = await f.run(bomb);
    expect(free.stdout).toBe('all-started\n');
    await f.assertClean();
  });

  test('memory: going past the limit gets the process killed, and the error says so', async () => {
    // Filling a tmpfs charges its pages to the writer's memory cgroup; swap is limited too.
    const lines: string[] = [];
    const err = await f.run(['/bin/sh', '-c', 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; exec dd if=/dev/zero of=/big/f bs=1M count=200'], {
      limits: { memoryBytes: 32 * 1024 * 1024 },
      mounts: [{ kind: 'tmpfs', target: '/big', sizeBytes: 512 * 1024 * 1024 }],
      onLog: (l) => lines.push(l.text),
    }).catch((e: unknown) => e);
    expect(lines).toContain(String(32 * 1024 * 1024));
    expect(err).toBeInstanceOf(ExecFailedError);
    expect((err as ExecFailedError).exitCode).toBe(137);
    expect((err as ExecFailedError).detail.at(-1)).toMatch(/memory limit of 33554432 bytes/);
    for (const d of await cgroupDirsFromInside(lines.join('\n'))) expect(existsSync(d)).toBe(false);
    await f.assertClean();
  });

  test('without limits the same write succeeds', async () => {
    const out = await f.run(['/bin/sh', '-c', 'dd if=/dev/zero of=/big/f bs=1M count=64 2>/dev/null; echo survived'], {
      mounts: [{ kind: 'tmpfs', target: '/big', sizeBytes: 512 * 1024 * 1024 }],
    });
    expect(out.stdout).toBe('survived\n');
  });
});
