/**
 * A FROM whose layer does not fit on the disk: the build fails with the disk-full error, and the
 * half-extracted snapshot is gone when the command exits — not left for the next command's
 * recovery (removing it used to need a marker file, which a full disk refuses). The data root
 * lives on a real tmpfs that is shrunk to just above what the image import used.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild } from '../../helpers/cli.js';
import { snapshotDirs } from '../../helpers/data-root-disk.js';
import { mulberry32 } from '../../helpers/prng.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { Workspace } from '../images/workspace.js';

describeIf(isRoot && haveBusybox && haveBinary('runc'), 'needs root, runc, mount and busybox-static', 'FROM on a full disk', () => {
  let ws: Workspace;
  let small = '';
  let mounted = false;

  beforeAll(async () => {
    ws = await Workspace.create('from-enospc');
    small = ws.path('small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', small]);
    mounted = true;
  }, 60_000);

  afterAll(async () => {
    if (mounted) execFileSync('umount', [small]);
    await ws.finish();
  }, 60_000);

  test('the failed extraction leaves no snapshot, link or temp directory behind', async () => {
    const root = join(small, 'root');
    const run = (args: readonly string[]): ReturnType<typeof runTsbuild> => runTsbuild(['--root', root, ...args], { timeoutMs: 120_000 });
    // An image with 4 MB of incompressible data in its layer.
    const rootfs = ws.path('rootfs');
    await mkdir(rootfs);
    const rand = mulberry32(11);
    const bytes = Buffer.alloc(4_000_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    await writeFile(join(rootfs, 'big.bin'), bytes);
    execFileSync('tar', ['-C', rootfs, '-cf', ws.path('big.tar'), '.']);
    // `image import` unpacks what it stored at once (as docker import does), so the disk is shrunk
    // first: room for the 4 MB blob and the metadata of a build, not also for the 4 MB the layer
    // unpacks to. The import's own unpack hits the full disk, keeps the image, and cleans up.
    await run(['images']);
    const fs = await statfs(small);
    const used = (Number(fs.blocks) - Number(fs.bfree)) * Number(fs.bsize);
    execFileSync('mount', ['-o', `remount,size=${used + 6 * 1024 * 1024}`, small]);
    const imp = await run(['image', 'import', ws.path('big.tar'), 'big']);
    expect(imp.stderr).toBe('');
    expect(await snapshotDirs(root)).toEqual([]);
    const ctx = await ws.context('from-big', 'FROM big\nRUN true\n');

    const r = await run(['build', '--progress', 'plain', ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FROM docker\.io\/library\/big:latest: .*no space left on device/i);
    // Right after the failed command, before any other runs: nothing of the extraction is left.
    expect(await snapshotDirs(root)).toEqual([]);
    expect(await readdir(join(root, 'overlay2', 'l'))).toEqual([]);
    expect((await readdir(join(root, 'overlay2'))).filter((n) => n.startsWith('.tmp-') || n.startsWith('.trash-'))).toEqual([]);

    execFileSync('mount', ['-o', 'remount,size=64m', small]);
    const check = await run(['cache', 'check']);
    expect({ code: check.code, out: check.stdout }).toEqual({ code: 0, out: expect.stringMatching(/^ok: /) as unknown as string });
  }, 180_000);
});
