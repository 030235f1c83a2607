/**
 * The sandbox network's helper must not unmount anything on the host. slirp4netns --enable-sandbox
 * unshares a mount namespace and unmounts the old root there; started in the engine's namespace it
 * inherited *shared* mounts (dockerd's data root and its containers' root filesystems are shared),
 * and the unmounts propagated back: Docker RUNs beside a tsbuild build lost their root filesystem.
 * Here a shared mount with a submount stands in for dockerd's; it must survive a sandbox RUN.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, makeExecFixture, mountsUnder, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describeIf(canRunContainers, whyNot, 'sandbox network and host mount propagation', () => {
  let f: ExecFixture;
  let shared = '';
  beforeAll(async () => {
    f = await makeExecFixture();
    shared = await mkdtemp(join(tmpdir(), 'tsbuild-shared-'));
    execFileSync('mount', ['--bind', shared, shared]);
    execFileSync('mount', ['--make-shared', shared]);
    await mkdir(join(shared, 'sub'));
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(shared, 'sub')]);
  });
  afterAll(async () => {
    for (const m of [join(shared, 'sub'), shared]) {
      try {
        execFileSync('umount', [m]);
      } catch {
        // already gone (what the test checks)
      }
    }
    await rm(shared, { recursive: true, force: true });
    await f.dispose();
  });

  test('a RUN in the sandbox network leaves shared mounts on the host mounted', async () => {
    for (let i = 0; i < 3; i++) await f.run(['/bin/true'], { network: 'sandbox' });
    expect(mountsUnder(shared)).toEqual([shared, join(shared, 'sub')]);
  });
});
