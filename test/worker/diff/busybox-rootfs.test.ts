/**
 * The busybox base rootfs: reproducible, has the users and directories RUN steps rely on, and
 * becomes a working root filesystem when applied as a layer (a real shell runs in it).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Overlay2Applier } from '../../../src/worker/diff/applier.js';
import { Overlay2Differ } from '../../../src/worker/diff/differ.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { haveBusybox, makeBusyboxRootfs, makeBusyboxTar } from '../../helpers/busybox.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { collect, sha256 } from './tar-fixtures.js';

describeIf(canMount && haveBusybox, haveBusybox ? whyNoMount : 'needs busybox-static (/bin/busybox)', 'busybox base rootfs', () => {
  let tmp: string;
  let snap: Overlay2Snapshotter;

  beforeAll(async () => {
    tmp = await makeTempDir('tsbuild-bb-');
    snap = new Overlay2Snapshotter({ root: join(tmp, 'root') });
  });
  afterAll(async () => {
    await snap.close();
    await removeTempDir(tmp);
  });

  test('the tar is byte-for-byte reproducible and the directory has users, groups and modes', async () => {
    await makeBusyboxTar(join(tmp, 'a.tar'));
    await new Promise((r) => setTimeout(r, 1100)); // a different wall-clock second
    await makeBusyboxTar(join(tmp, 'b.tar'));
    expect(sha256(await readFile(join(tmp, 'a.tar')))).toBe(sha256(await readFile(join(tmp, 'b.tar'))));

    const dir = join(tmp, 'rootfs');
    await makeBusyboxRootfs(dir);
    expect(await readlink(join(dir, 'bin', 'sh'))).toBe('busybox');
    const passwd = await readFile(join(dir, 'etc', 'passwd'), 'utf8');
    expect(passwd).toMatch(/^root:x:0:0:/m);
    expect(passwd).toMatch(/^app:x:1000:1000:app:\/home\/app:\/bin\/sh$/m);
    expect(passwd).toMatch(/^nobody:x:65534:65534:/m);
    expect(await readFile(join(dir, 'etc', 'group'), 'utf8')).toMatch(/^users:x:100:app$/m);
    expect((await lstat(join(dir, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await lstat(join(dir, 'root'))).mode & 0o7777).toBe(0o700);
    expect((await lstat(join(dir, 'home', 'app'))).uid).toBe(1000);
    await expect(lstat(join(dir, 'etc', 'hostname'))).rejects.toThrow(/ENOENT/);
    expect((await lstat(join(dir, 'bin', 'busybox'))).mtimeMs).toBe(946_684_800_000);
    await expect(makeBusyboxRootfs(dir)).rejects.toThrow(/not empty/);
  });

  test('applied as a layer it is a root filesystem a shell runs in, and it round-trips', async () => {
    const file = join(tmp, 'layer.tar');
    await makeBusyboxTar(file);
    const applier = new Overlay2Applier({ snapshotter: snap });
    const applied = await applier.apply(createReadStream(file));
    expect(applied.diffId).toBe(sha256(await readFile(file)));
    await snap.withView(applied.id, async (rootfs) => {
      const out = execFileSync('chroot', [rootfs, '/bin/sh', '-c', 'id -un; ls /home; echo $((6*7))'], { encoding: 'utf8' });
      expect(out).toBe('root\napp\n42\n');
      const asApp = execFileSync('chroot', ['--userspec=1000:1000', rootfs, '/bin/sh', '-c', 'cd /tmp && id -u'], { encoding: 'utf8' });
      expect(asApp).toBe('1000\n');
    });
    // Our differ's rendering of the applied snapshot is stable through another apply.
    const differ = new Overlay2Differ({ snapshotter: snap });
    const ours = await collect(differ.diff(applied.id));
    const again = await applier.apply(Readable.from([ours]));
    expect(sha256(await collect(differ.diff(again.id)))).toBe(sha256(ours));
  });
});
