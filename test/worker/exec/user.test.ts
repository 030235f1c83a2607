/** USER resolution against a rootfs' /etc/passwd and /etc/group, and what `id` shows in the container. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGroup, parsePasswd } from '../../../src/worker/exec/passwd.js';
import { resolveUser } from '../../../src/worker/exec/user.js';
import { UserInputError } from '../../../src/util/errors.js';
import { describeIf } from '../../helpers/skip.js';
import { GROUP, PASSWD } from './busybox-rootfs.js';
import { canRunContainers, makeExecFixture, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

const signal = AbortSignal.timeout(30_000);

describe('passwd and group parsing', () => {
  test('skips comments, blank, NIS and malformed lines', () => {
    expect(parsePasswd('# c\n\n+nis::0:0::/:\nbad:x:x:1::/:\nok:x:5:6:gecos:/h:/bin/sh\n')).toEqual([{ name: 'ok', uid: 5, gid: 6, home: '/h', shell: '/bin/sh' }]);
    expect(parseGroup('g:x:7:a, b,,c\nempty:x:8:\n')).toEqual([{ name: 'g', gid: 7, members: ['a', 'b', 'c'] }, { name: 'empty', gid: 8, members: [] }]);
  });
});

describe('resolveUser', () => {
  let dir: string;
  let rootfs: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-user-'));
    rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc', 'passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc', 'group'), GROUP);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const resolve = (user: string, root = rootfs) => resolveUser({ rootfs: root, user, signal });

  test.each([
    ['', { uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root' }],
    ['root', { uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root' }],
    ['app', { uid: 1000, gid: 1000, additionalGids: [2000, 3000], home: '/home/app', name: 'app' }],
    ['1000', { uid: 1000, gid: 1000, additionalGids: [2000, 3000], home: '/home/app', name: 'app' }],
    ['app:extra', { uid: 1000, gid: 2000, additionalGids: [], home: '/home/app', name: 'app' }],
    ['app:3000', { uid: 1000, gid: 3000, additionalGids: [], home: '/home/app', name: 'app' }],
    ['1000:tools', { uid: 1000, gid: 3000, additionalGids: [], home: '/home/app', name: 'app' }],
    ['app:4444', { uid: 1000, gid: 4444, additionalGids: [], home: '/home/app', name: 'app' }],
    ['4242', { uid: 4242, gid: 0, additionalGids: [], home: '/', name: undefined }],
    ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [], home: '/', name: undefined }],
  ])('%j', async (user, want) => {
    expect(await resolve(user)).toEqual(want);
  });

  test('unknown names are clear errors with stable codes', async () => {
    await expect(resolve('nosuch')).rejects.toThrow(new UserInputError('USER_NOT_FOUND', 'unable to find user nosuch: no matching entries in passwd file'));
    await expect(resolve('nosuch')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await expect(resolve('app:nogrp')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND', message: 'unable to find group nogrp: no matching entries in group file' });
    await expect(resolve('99999999999')).rejects.toMatchObject({ code: 'INVALID_USER' });
    await expect(resolve('-1')).rejects.toMatchObject({ code: 'INVALID_USER' });
  });

  test('without passwd and group files only numeric ids work', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    expect(await resolve('', empty)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/', name: undefined });
    expect(await resolve('12:34', empty)).toEqual({ uid: 12, gid: 34, additionalGids: [], home: '/', name: undefined });
    await expect(resolve('root', empty)).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
  });

  test('symlinks are followed inside the rootfs, never out of it', async () => {
    const evil = join(dir, 'evil');
    await mkdir(join(evil, 'etc'), { recursive: true });
    await mkdir(join(dir, 'outside'), { recursive: true });
    await writeFile(join(dir, 'outside', 'passwd'), 'mallory:x:666:666::/m:/bin/sh\n');
    // On the host this relative link reaches dir/outside/passwd; inside the rootfs it stops at /.
    await symlink('../../outside/passwd', join(evil, 'etc', 'passwd'));
    await expect(resolve('mallory', evil)).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    // An absolute link is relative to the rootfs.
    await mkdir(join(evil, 'data'));
    await writeFile(join(evil, 'data', 'users'), 'inside:x:77:78::/in:/bin/sh\n');
    await unlink(join(evil, 'etc', 'passwd'));
    await symlink('/data/users', join(evil, 'etc', 'passwd'));
    expect(await resolve('inside', evil)).toMatchObject({ uid: 77, gid: 78, home: '/in' });
    // A loop is an error, not a hang.
    await unlink(join(evil, 'etc', 'passwd'));
    await symlink('/etc/passwd', join(evil, 'etc', 'passwd'));
    await expect(resolve('x', evil)).rejects.toMatchObject({ code: 'SYMLINK_LOOP' });
  });
});

describeIf(canRunContainers, whyNot, 'USER in a running container', () => {
  let f: ExecFixture;
  beforeAll(async () => {
    f = await makeExecFixture();
  });
  afterAll(async () => {
    await f.dispose();
  });

  test.each([
    ['', '0 0 0 /root'],
    ['app', '1000 1000 1000 2000 3000 /home/app'],
    ['1000:extra', '1000 2000 2000 /home/app'],
    ['4242', '4242 0 0 /'],
    ['nobody:tools', '65534 3000 3000 /nonexistent'],
  ])('USER %j → id %s', async (user, want) => {
    const out = await f.run(['/bin/sh', '-c', 'echo $(id -u) $(id -g) $(id -G) $HOME'], { user });
    expect(out.stdout).toBe(`${want}\n`);
  });

  test('an unknown user fails before the container starts', async () => {
    await expect(f.run(['true'], { user: 'ghost' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await f.assertClean();
  });
});
