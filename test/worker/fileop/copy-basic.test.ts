import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copy } from '../../../src/worker/fileop/copy.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { UserInputError } from '../../../src/util/errors.js';
import { canaryIntact, listTree, makeRoots, modeOf, read, writeTree, type Roots, dockerCopy } from './fixture.js';

const location = { file: 'Dockerfile', line: 3, column: 1 };

let r: Roots;
beforeEach(() => {
  r = makeRoots();
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});

const run = (a: CopyAction, cwd?: string) => copy(a, { srcRoot: r.src, destRoot: r.dest, location, ...(cwd ? { cwd } : {}) });

describe('copy: what lands where', () => {
  test('a source directory copies its contents, not itself', async () => {
    writeTree(r.src, { 'app/a.txt': 'a', 'app/sub/b.txt': 'b' });
    await run(dockerCopy('app', '/srv'));
    expect(listTree(r.dest)).toEqual(['d srv', 'f srv/a.txt', 'd srv/sub', 'f srv/sub/b.txt']);
  });

  test('without dirCopyContents the directory itself goes inside an existing destination dir', async () => {
    writeTree(r.src, { 'app/a.txt': 'a' });
    mkdirSync(join(r.dest, 'srv'));
    await run(dockerCopy('app', '/srv', { dirCopyContents: false }));
    expect(listTree(r.dest)).toEqual(['d srv', 'd srv/app', 'f srv/app/a.txt']);
  });

  test('wildcard matches of one name into a new directory: the later replaces the earlier (the new directory is not looked up for names not yet written)', async () => {
    writeTree(r.src, { 'a/x': 'from a', 'b/x': 'from b', 'b/y': 'y', 'c/x': 'from c' });
    await run(dockerCopy('*/x', '/new/'));
    expect(listTree(r.dest)).toEqual(['d new', 'f new/x']);
    expect(read(r.dest, 'new/x')).toBe('from c');
    await run(dockerCopy('*/[xy]', '/new2/', { alwaysReplaceExistingDestPaths: true }));
    expect(listTree(r.dest).filter((e) => e.includes('new2'))).toEqual(['d new2', 'f new2/x', 'f new2/y']);
    expect([read(r.dest, 'new2/x'), read(r.dest, 'new2/y')]).toEqual(['from c', 'y']);
  });

  test('a file to a path without trailing slash becomes that file', async () => {
    writeTree(r.src, { 'a.txt': 'hello' });
    await run(dockerCopy('a.txt', '/etc/b.conf'));
    expect(listTree(r.dest)).toEqual(['d etc', 'f etc/b.conf']);
    expect(read(r.dest, 'etc/b.conf')).toBe('hello');
  });

  test('a file to a destination ending in / goes inside it, created if missing', async () => {
    writeTree(r.src, { 'a.txt': 'hello' });
    await run(dockerCopy('a.txt', '/opt/x/'));
    expect(listTree(r.dest)).toEqual(['d opt', 'd opt/x', 'f opt/x/a.txt']);
  });

  test('a file to an existing directory without trailing slash goes inside it', async () => {
    writeTree(r.src, { 'a.txt': 'hello' });
    mkdirSync(join(r.dest, 'data'));
    await run(dockerCopy('a.txt', '/data'));
    expect(read(r.dest, 'data/a.txt')).toBe('hello');
  });

  test('created destination parents are 0755 and owned by root', async () => {
    writeTree(r.src, { 'a.txt': 'x' });
    await run(dockerCopy('a.txt', '/a/b/c/'));
    for (const d of ['a', 'a/b', 'a/b/c']) {
      expect(modeOf(r.dest, d)).toBe(0o755);
      expect(lstatSync(join(r.dest, d)).uid).toBe(0);
    }
  });

  test('a relative destination is resolved against the WORKDIR', async () => {
    writeTree(r.src, { 'a.txt': 'x' });
    await run(dockerCopy('a.txt', 'conf/'), '/work/dir');
    await run(dockerCopy('a.txt', '.'), '/w2');
    expect(listTree(r.dest)).toEqual(['d w2', 'f w2/a.txt', 'd work', 'd work/dir', 'd work/dir/conf', 'f work/dir/conf/a.txt']);
  });

  test('an existing destination file is replaced', async () => {
    writeTree(r.src, { 'a.txt': 'new' });
    writeTree(r.dest, { 'a.txt': 'old content that is longer' });
    await run(dockerCopy('a.txt', '/a.txt'));
    expect(read(r.dest, 'a.txt')).toBe('new');
  });

  test('several sources into one directory (one action per source, as the frontend emits)', async () => {
    writeTree(r.src, { 'a.txt': 'a', 'b.txt': 'b', 'dir/c.txt': 'c' });
    for (const s of ['a.txt', 'b.txt', 'dir']) await run(dockerCopy(s, '/out/'));
    expect(listTree(r.dest)).toEqual(['d out', 'f out/a.txt', 'f out/b.txt', 'f out/c.txt']);
  });

  test('directory contents merge into an existing directory, keeping what was there', async () => {
    writeTree(r.src, { 'd/new.txt': 'n', 'd/sub/x': 'x' });
    writeTree(r.dest, { 'd/old.txt': 'o', 'd/sub/y': 'y' });
    await run(dockerCopy('d', '/d'));
    expect(listTree(r.dest)).toEqual(['d d', 'f d/new.txt', 'f d/old.txt', 'd d/sub', 'f d/sub/x', 'f d/sub/y']);
  });

  test('a destination symlink to a directory is followed, inside the destination root', async () => {
    writeTree(r.src, { 'a.txt': 'a' });
    writeTree(r.dest, { 'real/keep': 'k', 'link': { link: '/real' } });
    await run(dockerCopy('a.txt', '/link/'));
    expect(read(r.dest, 'real/a.txt')).toBe('a');
    expect(lstatSync(join(r.dest, 'link')).isSymbolicLink()).toBe(true);
  });

  test('copying the whole context root (".") copies everything', async () => {
    writeTree(r.src, { 'a': '1', 'b/c': '2' });
    await run(dockerCopy('.', '/app/'));
    expect(listTree(r.dest)).toEqual(['d app', 'f app/a', 'd app/b', 'f app/b/c']);
  });
});

describe('copy: wildcards', () => {
  beforeEach(() => {
    writeTree(r.src, { 'a1.txt': '1', 'a2.txt': '2', 'b.md': 'b', 'a[1].txt': 'bracket', 'dir/x.go': 'x', 'dir/y.go': 'y', 'dir/z.c': 'z' });
  });

  test('* matches names within one directory level', async () => {
    const res = await run(dockerCopy('*.txt', '/out/'));
    expect(res.sources).toEqual(['/a1.txt', '/a2.txt', '/a[1].txt']);
    expect(listTree(r.dest)).toEqual(['d out', 'f out/a1.txt', 'f out/a2.txt', 'f out/a[1].txt']);
  });

  test('? and [...] classes follow Go filepath.Match', async () => {
    await run(dockerCopy('a?.txt', '/q/'));
    await run(dockerCopy('[ab][12].*', '/c/'));
    expect(listTree(join(r.dest, 'q'))).toEqual(['f a1.txt', 'f a2.txt']);
    expect(listTree(join(r.dest, 'c'))).toEqual(['f a1.txt', 'f a2.txt']);
  });

  test('\\[ escapes a bracket so it matches literally', async () => {
    await run(dockerCopy('a\\[1\\].*', '/e/'));
    expect(listTree(join(r.dest, 'e'))).toEqual(['f a[1].txt']);
    await run(dockerCopy('a\\[1\\].txt', '/lit.txt'));
    expect(read(r.dest, 'lit.txt')).toBe('bracket');
  });

  test('wildcards in a directory component', async () => {
    await run(dockerCopy('d*/*.go', '/go/'));
    expect(listTree(join(r.dest, 'go'))).toEqual(['f x.go', 'f y.go']);
  });

  test('a wildcard match goes where a plain source would: one file match without trailing slash is that file', async () => {
    await run(dockerCopy('b.*', '/docs'));
    expect(listTree(r.dest)).toEqual(['f docs']);
    expect(read(r.dest, 'docs')).toBe('b');
    // a directory match copies its contents to the destination
    await run(dockerCopy('di?', '/src'));
    expect(listTree(join(r.dest, 'src'))).toEqual(['f x.go', 'f y.go', 'f z.c']);
    // into an existing directory, matches go inside it
    mkdirSync(join(r.dest, 'texts'));
    await run(dockerCopy('a?.txt', '/texts'));
    expect(listTree(join(r.dest, 'texts'))).toEqual(['f a1.txt', 'f a2.txt']);
  });

  test('a wildcard into an existing file replaces it; several file matches land on one name, the last wins (as Docker)', async () => {
    writeTree(r.dest, { docs: 'file' });
    await run(dockerCopy('*.md', '/docs'));
    expect(read(r.dest, 'docs')).toBe('b');
    await run(dockerCopy('a?.txt', '/one'));
    expect(listTree(r.dest)).toEqual(['f docs', 'f one']);
    expect(read(r.dest, 'one')).toBe('2');
  });

  test('no match is a clear error naming the pattern and the instruction location', async () => {
    const err = await run(dockerCopy('nothing*', '/out/')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserInputError);
    expect(err).toMatchObject({ code: 'FILEOP_NO_MATCH', location });
    expect((err as Error).message).toContain('"/nothing*"');
    expect(listTree(r.dest)).toEqual([]);
  });

  test('allowEmptyWildcard makes no match a no-op', async () => {
    const res = await run(dockerCopy('nothing*', '/out/', { allowEmptyWildcard: true }));
    expect(res.sources).toEqual([]);
    expect(listTree(r.dest)).toEqual([]);
  });

  test('a malformed pattern is a user error', async () => {
    await expect(run(dockerCopy('a[', '/out/'))).rejects.toMatchObject({ code: 'FILEOP_BAD_PATTERN' });
  });

  test('without allowWildcard a * is a literal name', async () => {
    writeTree(r.src, { 'star*': 'literal' });
    await run(dockerCopy('star*', '/s', { allowWildcard: false }));
    expect(read(r.dest, 's')).toBe('literal');
  });
});

describe('copy: errors', () => {
  test('a missing source names the path, with code and location', async () => {
    const err = await run(dockerCopy('missing.txt', '/x')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FILEOP_SOURCE_NOT_FOUND', location });
    expect((err as Error).message).toBe('source "/missing.txt" not found: lstat /missing.txt: no such file or directory');
  });

  test('without createDestPath a missing destination parent is an error', async () => {
    writeTree(r.src, { 'a.txt': 'x' });
    await expect(run(dockerCopy('a.txt', '/no/such/file', { createDestPath: false }))).rejects.toMatchObject({
      code: 'FILEOP_DEST_PARENT_MISSING',
    });
  });

  test('a directory over an existing file fails unless alwaysReplaceExistingDestPaths', async () => {
    writeTree(r.src, { 'd/sub/a': 'a' });
    writeTree(r.dest, { 'out/sub': 'I am a file' });
    await expect(run(dockerCopy('d', '/out'))).rejects.toMatchObject({ code: 'FILEOP_NOT_A_DIRECTORY', message: 'cannot copy to non-directory: /out/sub' });
    await run(dockerCopy('d', '/out', { alwaysReplaceExistingDestPaths: true }));
    expect(read(r.dest, 'out/sub/a')).toBe('a');
  });

  test('a file over an existing directory fails unless alwaysReplaceExistingDestPaths', async () => {
    writeTree(r.src, { 'd/x': 'file' });
    writeTree(r.dest, { 'out/x/inner': 'i' });
    await expect(run(dockerCopy('d', '/out'))).rejects.toMatchObject({ code: 'FILEOP_REPLACE_DIR_WITH_FILE' });
    await run(dockerCopy('d', '/out', { alwaysReplaceExistingDestPaths: true }));
    expect(read(r.dest, 'out/x')).toBe('file');
  });

  test('an aborted signal stops the copy with a CANCELLED error', async () => {
    writeTree(r.src, { 'a.txt': 'x' });
    const ac = new AbortController();
    ac.abort(new Error('user pressed ^C'));
    await expect(copy(dockerCopy('a.txt', '/a'), { srcRoot: r.src, destRoot: r.dest, signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  test('a copy of many files reports entries and bytes', async () => {
    const spec: Record<string, string> = {};
    for (let i = 0; i < 200; i++) spec[`many/f${i}`] = 'x'.repeat(i);
    writeTree(r.src, spec);
    writeFileSync(join(r.src, 'many', 'big'), Buffer.alloc(3 << 20, 7));
    const res = await run(dockerCopy('many', '/m'));
    expect(res.bytes).toBe((199 * 200) / 2 + (3 << 20));
    expect(listTree(join(r.dest, 'm'))).toHaveLength(201);
    expect(read(r.dest, 'm/f150')).toBe('x'.repeat(150));
  });
});
