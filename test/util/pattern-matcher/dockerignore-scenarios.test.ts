/**
 * Docker's and BuildKit's end-to-end `.dockerignore` cases (CASES.md §C) at the level of the context
 * walk: a real tree and ignore file go in, the set of paths that would be sent comes out.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIgnoreFile } from '../../../src/util/pattern-matcher/index.js';
import { makeTree, removeTree, walkLines } from './tree.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) removeTree(r);
});

/** Paths the context would contain with the tree's own .dockerignore applied. */
async function sent(entries: readonly string[], dockerignore: string | Buffer): Promise<Set<string>> {
  const root = makeTree([...entries, '.dockerignore'], { '.dockerignore': dockerignore });
  roots.push(root);
  const excludes = readIgnoreFile(readFileSync(join(root, '.dockerignore'), 'utf8'));
  const lines = await walkLines(root, { excludes });
  return new Set(lines.map((l) => l.replace(/^(dir|file) /, '')));
}

function expectSent(got: Set<string>, present: readonly string[], absent: readonly string[]): void {
  for (const p of present) expect({ path: p, sent: got.has(p) }).toEqual({ path: p, sent: true });
  for (const p of absent) expect({ path: p, sent: got.has(p) }).toEqual({ path: p, sent: false });
}

describe('end-to-end ignore cases at the walker', () => {
  test('C1 BuildKit testDockerignore', async () => {
    const got = await sent(['Dockerfile', 'foo', 'bar', 'baz', 'bay'], '\nba*\nDockerfile\n!bay\n.dockerignore\n');
    expectSent(got, ['foo', 'bay'], ['.dockerignore', 'Dockerfile', 'bar', 'baz']);
  });

  test('C4 moby TestBuildDockerignore', async () => {
    const got = await sent(
      ['Makefile', '.git/HEAD', 'src/x.go', 'src/_vendor/v.go', 'src/_vendor/v.cc', 'src/v.cc', 'v.cc', 'dir/foo', '.gitignore', 'README.md'],
      '.git\npkg\n.gitignore\nsrc/_vendor\n*.md\n**/*.cc\ndir',
    );
    expectSent(got, ['src/x.go', 'Makefile'], ['src/_vendor', '.gitignore', 'README.md', 'dir/foo', 'dir', '.git', 'v.cc', 'src/v.cc']);
  });

  test('C5 moby TestBuildDockerignoreCleanPaths', async () => {
    const got = await sent(['foo', 'foo2', 'dir1/foo'], './foo\ndir1//foo\n./dir1/../foo2');
    expectSent(got, ['dir1'], ['foo', 'foo2', 'dir1/foo']);
  });

  test('C6 moby TestBuildDockerignoreExceptions', async () => {
    const got = await sent(
      ['Makefile', '.git/HEAD', 'src/x.go', 'src/_vendor/v.go', 'dir/foo', 'dir/foo1', 'dir/dir/f1', 'dir/dir/foo', 'dir/e', 'dir/e-dir/foo', '.gitignore', 'README.md', 'dir/a.cc'],
      '.git\npkg\n.gitignore\nsrc/_vendor\n*.md\ndir\n!dir/e*\n!dir/dir/foo\n**/*.cc\n!**/*.cc',
    );
    expectSent(
      got,
      ['src/x.go', 'Makefile', 'dir/dir/foo', 'dir/e', 'dir/e-dir/foo', 'dir/a.cc'],
      ['src/_vendor', '.gitignore', 'README.md', 'dir/foo1', '.git', 'dir/dir/f1'],
    );
  });

  test.each(['Dockerfile', './Dockerfile'])('C7 ignoring the Dockerfile (%s)', async (pattern) => {
    const got = await sent(['Dockerfile'], pattern);
    expectSent(got, ['.dockerignore'], ['Dockerfile']);
  });

  test.each(['MyDockerfile', './MyDockerfile'])('C8 ignoring a renamed Dockerfile (%s)', async (pattern) => {
    const got = await sent(['Dockerfile', 'MyDockerfile'], pattern);
    expectSent(got, ['Dockerfile', '.dockerignore'], ['MyDockerfile']);
  });

  test('C9 ignoring .dockerignore', async () => {
    expectSent(await sent(['Dockerfile'], '.dockerignore'), ['Dockerfile'], ['.dockerignore']);
  });

  test('C10 ignoring the whole dir with *', async () => {
    expectSent(await sent(['.gitignore', 'Makefile'], '*'), [], ['.gitignore', 'Makefile']);
  });

  test('C11 ignoring only dotfiles', async () => {
    expectSent(await sent(['.gitignore', 'Makefile'], '.*'), ['Makefile'], ['.gitignore']);
  });

  test.each(['**', '**/', '**/**', '*'])('C13 wild top dir %j', async (pattern) => {
    const got = await sent(['Dockerfile', 'file1', 'dir/file1'], pattern);
    expect([...got]).toEqual([]);
  });

  test('C14 wild dirs', async () => {
    const files = [
      'Dockerfile', 'dir1/file0', 'dir1/dir2/file0', 'file1', 'dir1/file1', 'dir1/dir2/file1', 'dir1/file2', 'dir1/dir2/file2',
      'dir1/dir2/file4', 'dir1/dir2/file5', 'dir1/dir2/file6', 'dir1/dir3/file7', 'dir1/dir3/file8', 'dir1/dir4/file9',
      'dir1/dir5/fileAA', 'dir1/dir5/fileAB', 'dir1/dir5/fileB',
    ];
    const ignore = [
      '**/file0', '**/*file1', '**/dir1/file2', 'dir1/**/file4', '**/dir2/file5', '**/dir1/dir2/file6', 'dir1/dir3/**',
      '**/dir4/**', '**/file?A', '**/file\\?B', '**/dir5/file.',
    ].join('\n');
    const got = await sent(files, ignore);
    expectSent(
      got,
      ['Dockerfile', 'dir1/dir2/file2', 'dir1/dir3', 'dir1/dir4', 'dir1/dir5/fileAB', 'dir1/dir5/fileB'],
      ['dir1/file0', 'dir1/dir2/file0', 'file1', 'dir1/file1', 'dir1/dir2/file1', 'dir1/file2', 'dir1/dir2/file4', 'dir1/dir2/file5',
        'dir1/dir2/file6', 'dir1/dir3/file7', 'dir1/dir3/file8', 'dir1/dir5/fileAA'],
    );
  });

  test('C15 comments', async () => {
    const ignore = [
      '# Visual C++ cache files', '# because we have git ;-)', '# The above comment is from #20083', 'foo', '#dir1/foo', 'foo2',
      '# The following is considered as comment as # is at the beginning', '#1',
      '# The following is not considered as comment as # is not at the beginning', '  #2',
    ].join('\n');
    const got = await sent(['foo', 'foo2', 'dir1/foo', '#1', '#2'], ignore);
    expectSent(got, ['#1', 'dir1/foo'], ['#2', 'foo', 'foo2']);
  });

  test('C16 UTF-8 BOM', async () => {
    const got = await sent(['Dockerfile'], Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('./Dockerfile\n')]));
    expectSent(got, ['.dockerignore'], ['Dockerfile']);
  });

  test.each([
    ['Dockerfile\n.dockerignore', ['should_stay'], ['Dockerfile', '.dockerignore']],
    ['input1\ninput2', ['should_stay', 'Dockerfile', '.dockerignore'], []],
  ])('C19 classic builder removeDockerfile with %j', async (ignore, present, absent) => {
    expectSent(await sent(['should_stay', 'Dockerfile'], ignore), present, absent);
  });
});
