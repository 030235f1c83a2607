/**
 * Cache mounts in real RUNs (runc on a busybox rootfs): persistence across runs, the three sharing
 * modes with concurrent containers, and the cache never reaching the rootfs.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskCacheMountManager } from '../../../src/worker/cache-mounts/manager.js';
import type { CacheSharing } from '../../../src/worker/cache-mounts/types.js';
import { describeIf } from '../../helpers/skip.js';
import { makeBusyboxRootfs } from '../exec/busybox-rootfs.js';
import { canRunContainers, makeExecFixture, whyNot } from '../exec/fixture.js';
import type { ExecFixture, RunOutput } from '../exec/fixture.js';

/** Like Promise.all, but waits for every run to finish before failing, so none outlives the test. */
async function both<T>(a: Promise<T>, b: Promise<T>): Promise<[T, T]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}

describeIf(canRunContainers, whyNot, 'cache mounts in RUN', () => {
  let f: ExecFixture;
  let mgr: DiskCacheMountManager;
  beforeEach(async () => {
    f = await makeExecFixture();
    mgr = new DiskCacheMountManager({ root: f.root });
  });
  afterEach(async () => {
    await f.dispose();
  });

  /**
   * One RUN with a cache mount at /cache, leased for exactly the run as the worker will do it. Each
   * run gets its own rootfs, as each RUN step has its own snapshot.
   */
  let rootfsCount = 0;
  async function runWithCache(script: string, sharing: CacheSharing, id = 'c'): Promise<RunOutput & { path: string }> {
    const rootfs = join(f.dir, `rootfs-${rootfsCount++}`);
    await makeBusyboxRootfs(rootfs);
    const lease = await mgr.acquire({ id, sharing, uid: 1000, gid: 1000, signal: AbortSignal.timeout(60_000) });
    try {
      const out = await f.run(['/bin/sh', '-c', script], { rootfs, user: 'app', mounts: [{ kind: 'bind', source: lease.path, target: '/cache', writes: 'persist' }] });
      return { ...out, path: lease.path };
    } finally {
      await lease.release();
    }
  }

  test('the cache persists across runs and never lands in the rootfs', async () => {
    const first = await runWithCache('echo 1 >> /cache/count; wc -l < /cache/count', 'shared');
    const second = await runWithCache('echo 1 >> /cache/count; wc -l < /cache/count', 'shared');
    expect([first.stdout.trim(), second.stdout.trim()]).toEqual(['1', '2']);
    expect(existsSync(join(f.dir, 'rootfs-0', 'cache'))).toBe(false);
    // A new manager (the next build) finds it too.
    const later = new DiskCacheMountManager({ root: f.root });
    const l = await later.acquire({ id: 'c', sharing: 'shared', signal: AbortSignal.timeout(10_000) });
    expect(await readFile(join(l.path, 'count'), 'utf8')).toBe('1\n1\n');
    await l.release();
    await f.assertClean();
  });

  test('shared: two concurrent runs see each other\'s files', async () => {
    // Each run writes its marker and waits (bounded) for the other's: only possible in one directory.
    const script = (me: string, other: string): string =>
      `touch /cache/${me}; i=0; while [ ! -f /cache/${other} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; ls /cache | tr "\\n" " "`;
    const [a, b] = await both(runWithCache(script('a', 'b'), 'shared'), runWithCache(script('b', 'a'), 'shared'));
    expect(a.stdout).toBe('a b ');
    expect(b.stdout).toBe('a b ');
    expect(a.path).toBe(b.path);
  });

  test('private: two concurrent runs get separate directories', async () => {
    const script = (me: string): string => `touch /cache/${me}; sleep 0.5; ls /cache | tr "\\n" " "`;
    const [a, b] = await both(runWithCache(script('a'), 'private'), runWithCache(script('b'), 'private'));
    expect(a.stdout).toBe('a ');
    expect(b.stdout).toBe('b ');
    expect(a.path).not.toBe(b.path);
  });

  test('locked: concurrent runs take turns in one directory', async () => {
    // Each run checks nobody else is inside, stays a while, then leaves; overlap would be seen.
    const script = (me: string): string =>
      `[ -e /cache/busy ] && echo overlap; echo ${me} > /cache/busy; sleep 0.3; echo ${me} >> /cache/order; rm /cache/busy; cat /cache/order | tr "\\n" " "`;
    const [a, b] = await both(runWithCache(script('a'), 'locked'), runWithCache(script('b'), 'locked'));
    expect(`${a.stdout}|${b.stdout}`).not.toContain('overlap');
    expect(a.path).toBe(b.path);
    expect([a.stdout, b.stdout].sort((x, y) => x.length - y.length)).toEqual([expect.stringMatching(/^[ab] $/), expect.stringMatching(/^(a b|b a) $/)]);
    expect(await readdir(a.path)).toEqual(['order']);
    await f.assertClean();
  });
});
