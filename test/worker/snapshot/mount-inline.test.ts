/**
 * Overlay mounts made while the caller waits (the native module's mountSync, src/worker/snapshot/
 * mount-exec.ts): no thread-pool job and no event-loop turn between the syscall and the step going
 * on — the mount is there before mountOverlay's promise is even returned. Relative lower paths
 * still resolve against the request's directory, and a failure still rejects with the kernel's words.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mountOverlay, overlayMountsInline, unmount } from '../../../src/worker/snapshot/mount-exec.js';
import { nativeSysProblem } from '../../../src/util/native-sys.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from './fixtures.js';

const problem = nativeSysProblem();

function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

describeIf(canMount && problem === undefined, problem ?? whyNoMount, 'overlay mounts made inline', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir();
    for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(root, d));
    await writeFile(join(root, 'lower', 'f'), 'from the lower layer');
  });
  afterEach(async () => {
    await unmount(join(root, 'merged')).catch(() => undefined);
    await removeTempDir(root);
  });

  test('the mount is made before the call returns, with no thread-pool job; relative paths resolve against cwd', async () => {
    expect(overlayMountsInline()).toBe(true);
    const jobs: string[] = [];
    const hook = createHook({
      init(_id, type) {
        if (type.startsWith('tsbuild_sys')) jobs.push(type);
      },
    });
    const target = join(root, 'merged');
    hook.enable();
    let pending: Promise<void>;
    try {
      pending = mountOverlay({ cwd: root, target, options: 'lowerdir=lower,upperdir=upper,workdir=work' });
      // Through the pool this was false here (the job had not even reached its thread).
      expect(mounted(target)).toBe(true);
      await pending;
    } finally {
      hook.disable();
    }
    expect(jobs).toEqual([]);
    expect(await readFile(join(target, 'f'), 'utf8')).toBe('from the lower layer');
    await unmount(target);
    expect(mounted(target)).toBe(false);
  });

  test('a mount that fails rejects with the kernel\'s error and leaves nothing mounted', async () => {
    const target = join(root, 'merged');
    await expect(mountOverlay({ cwd: root, target, options: 'lowerdir=missing,upperdir=upper,workdir=work' }))
      .rejects.toMatchObject({ code: 'SNAPSHOT_MOUNT_FAILED', message: expect.stringMatching(/ENOENT/) });
    expect(mounted(target)).toBe(false);
  });
});
