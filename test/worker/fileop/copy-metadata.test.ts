import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from '@napi-rs/xattr';
import { copy } from '../../../src/worker/fileop/copy.js';
import { parseChownSpec } from '../../../src/worker/fileop/owner.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { describeIf, haveBinary, isRoot, partIf } from '../../helpers/skip.js';
import { canaryIntact, listTree, makeRoots, modeOf, writeTree, type Roots, dockerCopy } from './fixture.js';

let r: Roots;
beforeEach(() => {
  r = makeRoots();
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});

const run = (a: CopyAction) => copy(a, { srcRoot: r.src, destRoot: r.dest });
const owner = (p: string) => {
  const st = lstatSync(join(r.dest, p));
  return `${st.uid}:${st.gid}`;
};

describeIf(isRoot, 'chown needs root', 'copy: --chown', () => {
  beforeEach(() => {
    writeTree(r.src, { 'app/a': 'a', 'app/sub/b': 'b', 'app/link': { link: 'a' } });
    writeTree(r.dest, {
      'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n# comment\nappuser:x:1234:2345::/home/app:/bin/sh\n',
      'etc/group': 'root:x:0:\nstaff:x:777:appuser\n',
    });
  });

  test('numeric uid:gid applies to every copied entry, symlinks included', async () => {
    await run(dockerCopy('app', '/out/', { owner: parseChownSpec('1001:1002') }));
    for (const p of ['out/a', 'out/sub', 'out/sub/b', 'out/link']) expect(owner(p)).toBe('1001:1002');
  });

  test('a numeric uid alone means gid = uid', async () => {
    await run(dockerCopy('app/a', '/a', { owner: parseChownSpec('42') }));
    expect(owner('a')).toBe('42:42');
  });

  test('a user name is looked up in the destination /etc/passwd, taking its primary group', async () => {
    await run(dockerCopy('app/a', '/a', { owner: parseChownSpec('appuser') }));
    expect(owner('a')).toBe('1234:2345');
  });

  test('user:group names use the destination /etc/group for the group', async () => {
    await run(dockerCopy('app/a', '/a', { owner: parseChownSpec('appuser:staff') }));
    expect(owner('a')).toBe('1234:777');
  });

  test('an unknown user is one clear error', async () => {
    await expect(run(dockerCopy('app/a', '/a', { owner: parseChownSpec('nobody-here') }))).rejects.toMatchObject({
      code: 'FILEOP_UNKNOWN_USER',
      message: 'unable to find user nobody-here: no matching entries in passwd file',
    });
    expect(listTree(r.dest)).toEqual(['d etc', 'f etc/group', 'f etc/passwd']);
  });

  test('an unknown group is one clear error', async () => {
    await expect(run(dockerCopy('app/a', '/a', { owner: parseChownSpec('appuser:wheel') }))).rejects.toMatchObject({ code: 'FILEOP_UNKNOWN_GROUP' });
  });

  test('an /etc/passwd symlinked to the host file is read inside the destination root', async () => {
    // The host has a "root" entry; the destination's link target /etc/real-passwd is scoped to the root.
    writeTree(r.dest, { 'etc/real-passwd': 'svc:x:501:502::/:/bin/false\n' });
    execFileSync('rm', [join(r.dest, 'etc/passwd')]);
    symlinkSync('/etc/real-passwd', join(r.dest, 'etc/passwd'));
    await run(dockerCopy('app/a', '/a', { owner: parseChownSpec('svc') }));
    expect(owner('a')).toBe('501:502');
    await expect(run(dockerCopy('app/a', '/b', { owner: parseChownSpec('root') }))).rejects.toMatchObject({ code: 'FILEOP_UNKNOWN_USER' });
  });

  test('a destination without /etc/passwd cannot resolve names', async () => {
    execFileSync('rm', ['-r', join(r.dest, 'etc')]);
    await expect(run(dockerCopy('app/a', '/a', { owner: parseChownSpec('appuser') }))).rejects.toMatchObject({
      message: 'unable to find user appuser: no /etc/passwd in the destination filesystem',
    });
  });

  test('destination parents the copy creates get the --chown owner too (as BuildKit)', async () => {
    await run(dockerCopy('app/a', '/new/deep/a', { owner: parseChownSpec('1001:1002') }));
    expect(owner('new')).toBe('1001:1002');
    expect(owner('new/deep')).toBe('1001:1002');
  });

  test('without --chown the source owners are kept', async () => {
    chownSync(join(r.src, 'app/a'), 321, 654);
    await run(dockerCopy('app', '/keep/'));
    expect(owner('keep/a')).toBe('321:654');
  });

  test('chown keeps the setuid bit the source had (chmod after chown)', async () => {
    chmodSync(join(r.src, 'app/a'), 0o4755);
    await run(dockerCopy('app/a', '/suid', { owner: parseChownSpec('1:1') }));
    expect(modeOf(r.dest, 'suid')).toBe(0o4755);
  });

  // The copier leaves out chown/chmod calls when a new entry already has the wanted owner and mode:
  // these cases are the ones where the kernel gives a new entry something else.
  test('root-owned sources copied into a setgid directory of another group stay root:root', async () => {
    mkdirSync(join(r.dest, 'sg'));
    chownSync(join(r.dest, 'sg'), 0, 4321);
    chmodSync(join(r.dest, 'sg'), 0o2775);
    chownSync(join(r.src, 'app/sub'), 0, 0);
    chownSync(join(r.src, 'app/sub/b'), 0, 0);
    chownSync(join(r.src, 'app/a'), 0, 0);
    chmodSync(join(r.src, 'app/sub'), 0o755);
    await run(dockerCopy('app', '/sg/'));
    for (const p of ['sg/a', 'sg/sub', 'sg/sub/b', 'sg/link']) expect(owner(p)).toBe('0:0');
    expect(modeOf(r.dest, 'sg/sub')).toBe(0o755);
  });

  // Wildcard matches go straight into the existing destination directory, whose state the copier
  // takes once for all of them: a setgid directory gives new entries its group, so a chown is due.
  test('wildcard matches copied into an existing setgid directory of another group stay root:root; --chown to that group works', async () => {
    mkdirSync(join(r.dest, 'sg'));
    chownSync(join(r.dest, 'sg'), 0, 4321);
    chmodSync(join(r.dest, 'sg'), 0o2775);
    writeTree(r.src, { 'w/f1': '1', 'w/f2': '2', 'w/fl': { link: 'f1' } });
    for (const p of ['w/f1', 'w/f2']) chownSync(join(r.src, p), 0, 0);
    chmodSync(join(r.src, 'w/f2'), 0o600);
    await run(dockerCopy('w/f*', '/sg/'));
    for (const p of ['sg/f1', 'sg/f2', 'sg/fl']) expect(owner(p)).toBe('0:0');
    expect(modeOf(r.dest, 'sg/f2')).toBe(0o600);
    await run(dockerCopy('w/f*', '/sg/again/', { owner: parseChownSpec('0:4321') }));
    await run(dockerCopy('w/f*', '/sg/', { owner: parseChownSpec('0:4321') }));
    for (const p of ['sg/f1', 'sg/f2', 'sg/fl', 'sg/again/f1']) expect(owner(p)).toBe('0:4321');
  });

  test('--chown to the setgid directory group applies to files in a directory the copy creates', async () => {
    mkdirSync(join(r.dest, 'sg'));
    chownSync(join(r.dest, 'sg'), 0, 4321);
    chmodSync(join(r.dest, 'sg'), 0o2775);
    await run(dockerCopy('app', '/sg/new/', { owner: parseChownSpec('0:0') }));
    for (const p of ['sg/new', 'sg/new/a', 'sg/new/sub', 'sg/new/sub/b', 'sg/new/link']) expect(owner(p)).toBe('0:0');
  });

  test('setuid/setgid source files copied as root keep their bits; with --chown to root too', async () => {
    chmodSync(join(r.src, 'app/a'), 0o6755);
    chownSync(join(r.src, 'app/sub/b'), 5, 6);
    chmodSync(join(r.src, 'app/sub/b'), 0o6711);
    await run(dockerCopy('app', '/keep/'));
    expect(modeOf(r.dest, 'keep/a')).toBe(0o6755);
    expect(modeOf(r.dest, 'keep/sub/b')).toBe(0o6711);
    expect(owner('keep/sub/b')).toBe('5:6');
    await run(dockerCopy('app', '/root/', { owner: parseChownSpec('0:0') }));
    expect(modeOf(r.dest, 'root/a')).toBe(0o6755);
    expect(modeOf(r.dest, 'root/sub/b')).toBe(0o6711);
  });
});

describe('copy: --chmod', () => {
  beforeEach(() => {
    writeTree(r.src, { 'd/file': 'f', 'd/exe': 'e', 'd/sub/inner': 'i', 'd/ln': { link: 'file' } });
    chmodSync(join(r.src, 'd/file'), 0o640);
    chmodSync(join(r.src, 'd/exe'), 0o700);
    chmodSync(join(r.src, 'd/sub'), 0o500);
  });

  test('octal mode applies to files and directories alike', async () => {
    await run(dockerCopy('d', '/o', { mode: 0o751 }));
    for (const p of ['o/file', 'o/exe', 'o/sub', 'o/sub/inner']) expect(modeOf(r.dest, p)).toBe(0o751);
    // The destination directory created for the contents is a parent (0755), as in BuildKit.
    expect(modeOf(r.dest, 'o')).toBe(0o755);
  });

  test('modeStr octal ("0755") works like mode', async () => {
    await run(dockerCopy('d/file', '/f', { modeStr: '0755' }));
    expect(modeOf(r.dest, 'f')).toBe(0o755);
  });

  test('symbolic u=rwX,go=rX gives directories and executables x, plain files none', async () => {
    await run(dockerCopy('d', '/s', { modeStr: 'u=rwX,go=rX' }));
    expect(modeOf(r.dest, 's/file')).toBe(0o644);
    expect(modeOf(r.dest, 's/exe')).toBe(0o755);
    expect(modeOf(r.dest, 's/sub')).toBe(0o755);
  });

  test('+x without a class means a+x; a-w removes write everywhere', async () => {
    await run(dockerCopy('d/file', '/px', { modeStr: '+x' }));
    await run(dockerCopy('d/file', '/mw', { modeStr: 'a-w' }));
    expect(modeOf(r.dest, 'px')).toBe(0o751);
    expect(modeOf(r.dest, 'mw')).toBe(0o440);
  });

  test('modeStr wins over mode', async () => {
    await run(dockerCopy('d/file', '/w', { mode: 0o777, modeStr: 'go-rwx' }));
    expect(modeOf(r.dest, 'w')).toBe(0o600);
  });

  test('a bad chmod string is one clear error', async () => {
    await expect(run(dockerCopy('d/file', '/w', { modeStr: 'u=rwq' }))).rejects.toMatchObject({ code: 'FILEOP_BAD_CHMOD' });
    await expect(run(dockerCopy('d/file', '/w', { modeStr: '0788' }))).rejects.toMatchObject({ code: 'FILEOP_BAD_CHMOD' });
  });

  test('symlinks keep their own (unchangeable) mode', async () => {
    await run(dockerCopy('d', '/l', { mode: 0o600 }));
    expect(readlinkSync(join(r.dest, 'l/ln'))).toBe('file');
  });
});

describe('copy: links, times, xattrs, special files', () => {
  test('symlinks are copied as symlinks, with their target text unchanged', async () => {
    writeTree(r.src, { 'd/abs': { link: '/etc/passwd' }, 'd/rel': { link: '../x' }, 'd/dangling': { link: 'nope' } });
    await run(dockerCopy('d', '/d'));
    expect(listTree(join(r.dest, 'd'))).toEqual(['l abs -> /etc/passwd', 'l dangling -> nope', 'l rel -> ../x']);
  });

  test('hardlinks within one copy stay hardlinks', async () => {
    writeTree(r.src, { 'd/one': 'shared', 'd/sub/other': 'x' });
    linkSync(join(r.src, 'd/one'), join(r.src, 'd/sub/two'));
    linkSync(join(r.src, 'd/one'), join(r.src, 'd/three'));
    await run(dockerCopy('d', '/h'));
    const ino = (p: string) => lstatSync(join(r.dest, p)).ino;
    expect(ino('h/one')).toBe(ino('h/sub/two'));
    expect(ino('h/one')).toBe(ino('h/three'));
    expect(lstatSync(join(r.dest, 'h/one')).nlink).toBe(3);
    expect(ino('h/one')).not.toBe(lstatSync(join(r.src, 'd/one')).ino);
  });

  test('mtimes of files, directories and symlinks are preserved', async () => {
    writeTree(r.src, { 'd/f': 'x', 'd/sub/g': 'y', 'd/ln': { link: 'f' } });
    const t = new Date('2001-02-03T04:05:06Z');
    utimesSync(join(r.src, 'd/f'), t, t);
    utimesSync(join(r.src, 'd/sub/g'), t, t);
    lutimesSync(join(r.src, 'd/ln'), t, t);
    utimesSync(join(r.src, 'd/sub'), t, t);
    await run(dockerCopy('d', '/t'));
    for (const p of ['t/f', 't/sub/g', 't/ln', 't/sub']) expect(lstatSync(join(r.dest, p)).mtime.toISOString()).toBe(t.toISOString());
  });

  test('a timestamp override stamps every copied entry and the created parents', async () => {
    writeTree(r.src, { 'd/f': 'x', 'd/sub/g': 'y', 'd/ln': { link: 'f' } });
    await run(dockerCopy('d', '/p/q', { timestamp: 1_000_000_000 }));
    for (const p of ['p', 'p/q', 'p/q/f', 'p/q/sub', 'p/q/sub/g', 'p/q/ln']) {
      expect(lstatSync(join(r.dest, p)).mtimeMs).toBe(1_000_000_000_000);
    }
  });

  test('a timestamp given in nanoseconds (BuildKit units) is understood', async () => {
    writeTree(r.src, { f: 'x' });
    await run(dockerCopy('f', '/f', { timestamp: 1_500_000_000 * 1e9 }));
    expect(lstatSync(join(r.dest, 'f')).mtimeMs).toBe(1_500_000_000_000);
  });

  test('user xattrs are kept on files and directories', async () => {
    writeTree(r.src, { 'd/f': 'x' });
    setAttributeSync(join(r.src, 'd/f'), 'user.origin', 'context');
    setAttributeSync(join(r.src, 'd'), 'user.dir', 'yes');
    await run(dockerCopy('d', '/x', { dirCopyContents: false }));
    expect(getAttributeSync(join(r.dest, 'x/f'), 'user.origin')?.toString()).toBe('context');
    expect(getAttributeSync(join(r.dest, 'x'), 'user.dir')?.toString()).toBe('yes');
  });

  test('fifos are recreated as fifos', async () => {
    mkdirSync(join(r.src, 'd'));
    execFileSync('mkfifo', [join(r.src, 'd/pipe')]);
    chmodSync(join(r.src, 'd/pipe'), 0o620);
    await run(dockerCopy('d', '/f'));
    expect(lstatSync(join(r.dest, 'f/pipe')).isFIFO()).toBe(true);
    expect(modeOf(r.dest, 'f/pipe')).toBe(0o620);
  });

  test('followSymlink follows the source path itself, not the links below it', async () => {
    writeTree(r.src, { 'real/f': 'x', 'real/inner': { link: 'f' }, top: { link: 'real' }, file: 'F', flink: { link: 'file' } });
    await run(dockerCopy('top', '/a'));
    expect(listTree(join(r.dest, 'a'))).toEqual(['f f', 'l inner -> f']);
    await run(dockerCopy('flink', '/b', { followSymlink: false }));
    expect(readlinkSync(join(r.dest, 'b'))).toBe('file');
  });

  test('large files are copied intact', async () => {
    const big = Buffer.alloc(8 << 20);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    writeFileSync(join(r.src, 'big.bin'), big);
    await run(dockerCopy('big.bin', '/big.bin'));
    expect(readFileSync(join(r.dest, 'big.bin')).equals(big)).toBe(true);
  });
});

describeIf(isRoot, 'security.* xattrs need root', 'copy: file capabilities', () => {
  test('security.capability (setcap) survives the copy, also with --chown', async () => {
    writeTree(r.src, { ping: 'binary' });
    chmodSync(join(r.src, 'ping'), 0o755);
    // VFS_CAP_REVISION_2, effective, permitted = CAP_NET_RAW (bit 13).
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    setAttributeSync(join(r.src, 'ping'), 'security.capability', cap);
    await run(dockerCopy('ping', '/bin/ping', { owner: parseChownSpec('10:10') }));
    expect(getAttributeSync(join(r.dest, 'bin/ping'), 'security.capability')).toEqual(cap);
    if (partIf(haveBinary('getcap'), 'getcap is not installed (libcap2-bin)', 'getcap check of the copied capability')) expect(execFileSync('getcap', [join(r.dest, 'bin/ping')]).toString()).toContain('cap_net_raw');
  });
});
