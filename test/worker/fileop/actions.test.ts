import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chmodSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tsbuild } from '../../../src/llb/gen/llb.js';
import { fromLlbFileAction, runFileAction } from '../../../src/worker/fileop/file-action.js';
import { mkdirAction } from '../../../src/worker/fileop/mkdir.js';
import { mkfileAction } from '../../../src/worker/fileop/mkfile.js';
import { parseChownSpec } from '../../../src/worker/fileop/owner.js';
import { rmAction } from '../../../src/worker/fileop/rm.js';
import { symlinkAction } from '../../../src/worker/fileop/symlink.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { canaryIntact, listTree, makeRoots, modeOf, read, writeTree, type Roots } from './fixture.js';

let r: Roots;
beforeEach(() => {
  r = makeRoots();
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});
const ctx = () => ({ destRoot: r.dest, srcRoot: r.src });

describe('mkdir', () => {
  test('makeParents creates the chain with the mode and timestamp', async () => {
    await mkdirAction({ path: '/a/b/c', mode: 0o750, makeParents: true, timestamp: 1_234_567_890 }, ctx());
    for (const p of ['a', 'a/b', 'a/b/c']) {
      expect(modeOf(r.dest, p)).toBe(0o750);
      expect(lstatSync(join(r.dest, p)).mtimeMs).toBe(1_234_567_890_000);
    }
  });

  test('without makeParents a missing parent is an error and an existing dir is fine', async () => {
    await expect(mkdirAction({ path: '/x/y', mode: 0o755 }, ctx())).rejects.toMatchObject({ code: 'FILEOP_PATH_NOT_FOUND', message: '/x: no such file or directory' });
    await mkdirAction({ path: '/x', mode: 0o700 }, ctx());
    await mkdirAction({ path: '/x', mode: 0o755 }, ctx());
    expect(modeOf(r.dest, 'x')).toBe(0o700);
  });

  test('a relative path is resolved against the WORKDIR', async () => {
    await mkdirAction({ path: 'rel', mode: 0o755, makeParents: true }, { ...ctx(), cwd: '/work' });
    expect(listTree(r.dest)).toEqual(['d work', 'd work/rel']);
  });

  test('through a symlink to a host path it stays inside the root', async () => {
    writeTree(r.dest, { ln: { link: r.canary } });
    await mkdirAction({ path: '/ln/made', mode: 0o755, makeParents: true }, ctx());
    expect(lstatSync(join(r.dest, r.canary, 'made')).isDirectory()).toBe(true);
  });

  test('a file in the way is a clear error', async () => {
    writeTree(r.dest, { f: 'file' });
    await expect(mkdirAction({ path: '/f/sub', mode: 0o755, makeParents: true }, ctx())).rejects.toMatchObject({ code: 'FILEOP_PARENT_NOT_DIR' });
  });
});

describeIf(isRoot, 'chown needs root', 'mkdir/mkfile owners', () => {
  test('owner by name resolves in the destination /etc/passwd', async () => {
    writeTree(r.dest, { 'etc/passwd': 'app:x:100:101::/:/bin/sh\n', 'etc/group': 'app:x:101:\n' });
    await mkdirAction({ path: '/home/app', mode: 0o755, makeParents: true, owner: parseChownSpec('app') }, ctx());
    await mkfileAction({ path: '/home/app/.profile', mode: 0o600, data: 'x', owner: parseChownSpec('app:app') }, ctx());
    expect(lstatSync(join(r.dest, 'home/app')).uid).toBe(100);
    expect(lstatSync(join(r.dest, 'home/app/.profile')).gid).toBe(101);
  });
});

describe('mkfile', () => {
  test('writes data with mode, replacing an existing file and its mode', async () => {
    writeTree(r.dest, { 'etc/conf': 'old and long' });
    await mkfileAction({ path: '/etc/conf', mode: 0o600, data: new TextEncoder().encode('new') }, ctx());
    expect(read(r.dest, 'etc/conf')).toBe('new');
    expect(modeOf(r.dest, 'etc/conf')).toBe(0o600);
  });

  test('a missing parent is an error; a directory path is an error', async () => {
    await expect(mkfileAction({ path: '/nope/f', data: 'x' }, ctx())).rejects.toMatchObject({ code: 'FILEOP_PATH_NOT_FOUND' });
    writeTree(r.dest, { d: { dir: true } });
    await expect(mkfileAction({ path: '/d', data: 'x' }, ctx())).rejects.toMatchObject({ code: 'FILEOP_IS_A_DIRECTORY' });
  });

  test('a symlink at the path is followed inside the root, never to the host', async () => {
    writeTree(r.dest, { 'etc/x': { link: join(r.canary, 'keep') }, [r.canary.slice(1)]: { dir: true } });
    await mkfileAction({ path: '/etc/x', data: 'inside' }, ctx());
    expect(read(r.dest, join(r.canary, 'keep'))).toBe('inside');
  });
});

describe('rm', () => {
  beforeEach(() => {
    writeTree(r.dest, { 'a/one.log': '1', 'a/two.log': '2', 'a/keep.txt': 'k', 'b/deep/x': 'x', hostlink: { link: r.canary } });
  });

  test('removes a tree', async () => {
    await rmAction({ path: '/b' }, ctx());
    // Match the relative path only: a symlink's target (the random temp canary) may contain "b/".
    expect(listTree(r.dest).filter((l) => /^[dflp] b(\/| |$)/.test(l))).toEqual([]);
  });

  test('wildcards remove every match', async () => {
    const removed = await rmAction({ path: '/a/*.log', allowWildcard: true }, ctx());
    expect(removed).toEqual(['/a/one.log', '/a/two.log']);
    expect(listTree(join(r.dest, 'a'))).toEqual(['f keep.txt']);
  });

  test('a missing path is an error unless allowNotFound', async () => {
    await expect(rmAction({ path: '/nope' }, ctx())).rejects.toMatchObject({ code: 'FILEOP_PATH_NOT_FOUND' });
    await rmAction({ path: '/nope', allowNotFound: true }, ctx());
  });

  test('removing a symlink removes the link, not its (host) target', async () => {
    await rmAction({ path: '/hostlink' }, ctx());
    expect(listTree(r.dest).some((l) => l.includes('hostlink'))).toBe(false);
  });

  test('a path through a host symlink is resolved inside the root', async () => {
    await expect(rmAction({ path: '/hostlink/keep' }, ctx())).rejects.toMatchObject({ code: 'FILEOP_PATH_NOT_FOUND' });
    await rmAction({ path: '/hostlink/keep', allowNotFound: true }, ctx());
  });

  test('the root itself cannot be removed', async () => {
    await expect(rmAction({ path: '/' }, ctx())).rejects.toMatchObject({ code: 'FILEOP_BAD_PATH' });
  });
});

describe('symlink', () => {
  test('creates a link with the target text verbatim', async () => {
    writeTree(r.dest, { usr: { dir: true } });
    await symlinkAction({ oldpath: '/usr/bin', newpath: '/bin', timestamp: 1_000_000_000 }, ctx());
    expect(readlinkSync(join(r.dest, 'bin'))).toBe('/usr/bin');
    expect(lstatSync(join(r.dest, 'bin')).mtimeMs).toBe(1_000_000_000_000);
  });

  test('an existing entry is an error', async () => {
    writeTree(r.dest, { x: 'file' });
    await expect(symlinkAction({ oldpath: 'y', newpath: '/x' }, ctx())).rejects.toMatchObject({ code: 'FILEOP_PATH_EXISTS' });
  });

  test('the parent is resolved inside the root', async () => {
    writeTree(r.dest, { up: { link: '../../../..' } });
    await symlinkAction({ oldpath: 'target', newpath: '/up/made' }, ctx());
    expect(readlinkSync(join(r.dest, 'made'))).toBe('target');
  });
});

describe('decoded LLB actions run straight through', () => {
  test('a FileAction decoded from protobuf (defaults on the prototype) copies with source modes kept', async () => {
    writeTree(r.src, { 'f.sh': 'echo' });
    chmodSync(join(r.src, 'f.sh'), 0o751);
    // Canonical encoding omits defaults: mode 0 / timestamp 0 are never on the wire.
    const wire = tsbuild.llb.FileAction.encode({
      copy: { src: '/f.sh', dest: '/out/', followSymlink: true, dirCopyContents: true, createDestPath: true, allowWildcard: true },
    }).finish();
    const decoded = tsbuild.llb.FileAction.decode(wire);
    const action = fromLlbFileAction(decoded);
    expect(action.kind).toBe('copy');
    const res = await runFileAction(action, ctx());
    expect(res.kind).toBe('copy');
    expect(modeOf(r.dest, 'out/f.sh')).toBe(0o751);
    // Node sets times from a double: exact to the microsecond, not the nanosecond.
    expect(lstatSync(join(r.dest, 'out/f.sh')).mtimeMs).toBeCloseTo(lstatSync(join(r.src, 'f.sh')).mtimeMs, 2);
  });

  test('mode -1 and an explicit mode from a decoded message', async () => {
    writeTree(r.src, { f: 'x' });
    for (const [mode, want] of [[-1, 0o644], [0o700, 0o700]] as const) {
      const decoded = tsbuild.llb.FileAction.decode(
        tsbuild.llb.FileAction.encode({ copy: { src: '/f', dest: `/m${mode}`, mode, createDestPath: true } }).finish(),
      );
      await runFileAction(fromLlbFileAction(decoded), ctx());
      expect(modeOf(r.dest, `m${mode}`)).toBe(want);
    }
  });

  test('every action kind dispatches', async () => {
    const actions: tsbuild.llb.FileAction.$Properties[] = [
      { mkdir: { path: '/d', mode: 0o755, makeParents: true } },
      { mkfile: { path: '/d/f', mode: 0o644, data: new TextEncoder().encode('hi') } },
      { symlink: { oldpath: 'f', newpath: '/d/l' } },
      { rm: { path: '/d/f' } },
    ];
    for (const a of actions) await runFileAction(fromLlbFileAction(tsbuild.llb.FileAction.decode(tsbuild.llb.FileAction.encode(a).finish())), ctx());
    expect(listTree(r.dest)).toEqual(['d d', 'l d/l -> f']);
  });

  test('the generated message type is accepted as a CopyAction', () => {
    const m: CopyAction = tsbuild.llb.FileActionCopy.create({ src: 'a', dest: 'b' });
    expect(m.src).toBe('a');
  });
});
