/**
 * The context walker on real directory trees: fsutil's walker cases (CASES.md §B) plus order,
 * symlink, cancellation and error behaviour.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError } from '../../../src/util/errors.js';
import { ContextFilter, ContextWalkError, followLinks, PatternSyntaxError, walkContext } from '../../../src/util/pattern-matcher/index.js';
import { makeTree, removeTree, walkLines } from './tree.js';

const roots: string[] = [];
function tree(entries: readonly string[]): string {
  const r = makeTree(entries);
  roots.push(r);
  return r;
}
afterEach(() => {
  for (const r of roots.splice(0)) {
    chmodSync(r, 0o755);
    removeTree(r);
  }
});

const d = (p: string): string => `dir ${p}`;
const f = (p: string): string => `file ${p}`;

describe('B1 TestWalkerExclude', () => {
  test('foo*, !foo/bar2', async () => {
    const root = tree(['bar', 'foo/', 'foo2', 'foo/bar2']);
    expect(await walkLines(root, { excludes: ['foo*', '!foo/bar2'] })).toEqual([f('bar'), d('foo'), f('foo/bar2')]);
  });
});

describe('B2 TestInvalidExcludePatterns', () => {
  test('"!" fails before anything is yielded', async () => {
    const root = tree(['bar']);
    await expect(walkLines(root, { excludes: ['!'] })).rejects.toThrow(PatternSyntaxError);
    await expect(walkLines(root, { excludes: ['!'] })).rejects.toThrow('illegal exclusion pattern: "!"');
  });
});

describe('B3 TestWalkerInclude', () => {
  const cases: [string, string[]][] = [
    ['bar', [d('bar'), f('bar/foo')]],
    ['bar/foo', [d('bar'), f('bar/foo')]],
    ['b*', [d('bar'), f('bar/foo')]],
    ['bar/f*', [d('bar'), f('bar/foo')]],
    ['bar/g*', []],
    ['f*', [f('foo2')]],
    ['b*/f*', [d('bar'), f('bar/foo')]],
    ['b*/foo', [d('bar'), f('bar/foo')]],
    ['b*/', [d('bar'), f('bar/foo')]],
  ];
  test.each(cases)('include %s', async (pattern, expected) => {
    const root = tree(['bar/', 'bar/foo', 'foo2']);
    expect(await walkLines(root, { includes: [pattern] })).toEqual(expected);
  });
});

describe('B4 TestWalkerDoublestarInclude', () => {
  const entries = ['a/', 'a/b/', 'a/b/baz/', 'a/b/bar/', 'a/b/bar/foo', 'a/b/bar/fop', 'bar/', 'bar/foo', 'baz/', 'foo2', 'foo/', 'foo/bar/', 'foo/bar/bee'];
  const all = 'd a, d a/b, d a/b/bar, f a/b/bar/foo, f a/b/bar/fop, d a/b/baz, d bar, f bar/foo, d baz, d foo, d foo/bar, f foo/bar/bee, f foo2';
  const cases: [string, string][] = [
    ['**', all],
    ['**/bar', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, f a/b/bar/fop, d bar, f bar/foo, d foo, d foo/bar, f foo/bar/bee'],
    ['**/bar/foo', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, d bar, f bar/foo'],
    ['**/b*', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, f a/b/bar/fop, d a/b/baz, d bar, f bar/foo, d baz, d foo, d foo/bar, f foo/bar/bee'],
    ['**/bar/f*', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, f a/b/bar/fop, d bar, f bar/foo'],
    ['**/bar/g*', ''],
    ['**/f*', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, f a/b/bar/fop, d bar, f bar/foo, d foo, d foo/bar, f foo/bar/bee, f foo2'],
    ['**/b*/f*', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, f a/b/bar/fop, d bar, f bar/foo'],
    ['**/b*/foo', 'd a, d a/b, d a/b/bar, f a/b/bar/foo, d bar, f bar/foo'],
    ['**/foo/**', 'd foo, d foo/bar, f foo/bar/bee'],
    ['**/baz', 'd a, d a/b, d a/b/baz, d baz'],
  ];
  const expand = (s: string): string[] =>
    s === '' ? [] : s.split(', ').map((x) => (x.startsWith('d ') ? d(x.slice(2)) : f(x.slice(2))));
  test.each(cases)('include %s', async (pattern, expected) => {
    const root = tree(entries);
    expect(await walkLines(root, { includes: [pattern] })).toEqual(expand(expected));
  });
});

describe('B6 one filter with an exception', () => {
  test('exclude foo, !foo/bar', async () => {
    const root = tree(['foo/', 'foo/bar']);
    expect(await walkLines(root, { excludes: ['foo', '!foo/bar'] })).toEqual([d('foo'), f('foo/bar')]);
  });
});

describe('B7 single-path checks (ContextFilter)', () => {
  test('TestFilteredOpen: an excluded file is absent', () => {
    const filter = new ContextFilter({ excludes: ['bar'] });
    expect(filter.allows('foo')).toBe(true);
    expect(filter.allows('bar')).toBe(false);
  });
  test('TestFilteredOpenWildcard: include bar*', () => {
    const filter = new ContextFilter({ includes: ['bar*'] });
    expect(filter.allows('baz')).toBe(false);
    expect(filter.allows('bar2')).toBe(true);
    expect(filter.allows('bar/foo')).toBe(true);
  });
  test('TestFilteredOpenInvert: nested exceptions', () => {
    const filter = new ContextFilter({ excludes: ['foo', '!foo/bar', 'foo/bar/baz', '!foo/bar/baz/x'] });
    expect(filter.allows('foo/bar/baz/x')).toBe(true);
    expect(filter.allows('foo/bar/baz/y')).toBe(false);
  });
  test('the walk agrees with the filter on the TestFilteredOpenInvert tree', async () => {
    const root = tree(['foo/bar/baz/x', 'foo/bar/baz/y']);
    expect(await walkLines(root, { excludes: ['foo', '!foo/bar', 'foo/bar/baz', '!foo/bar/baz/x'] })).toEqual([
      d('foo'),
      d('foo/bar'),
      d('foo/bar/baz'),
      f('foo/bar/baz/x'),
    ]);
  });
});

describe('walk order and entries', () => {
  test('depth first, siblings in byte order (a, a/b, a.txt), root never listed', async () => {
    const root = tree(['a.txt', 'a/b', 'B', 'é', '_']);
    expect(await walkLines(root)).toEqual([f('B'), f('_'), d('a'), f('a/b'), f('a.txt'), f('é')]);
  });

  test('symlinks are yielded as links and never followed', async () => {
    const root = tree(['real/inside']);
    symlinkSync('real', join(root, 'link'));
    symlinkSync('/etc', join(root, 'abs'));
    const seen: [string, boolean][] = [];
    for await (const e of walkContext(root)) seen.push([e.path, e.stat.isSymbolicLink()]);
    expect(seen).toEqual([['abs', true], ['link', true], ['real', false], ['real/inside', false]]);
  });

  test('an excluded directory and everything below it is left out', async () => {
    const root = tree(['keep', 'skip/a', 'skip/b/c']);
    expect(await walkLines(root, { excludes: ['skip'] })).toEqual([f('keep')]);
  });

  test('a dir walked only for an exception below it is yielded right before its first included child', async () => {
    const root = tree(['dir/a', 'dir/keep/x', 'dir/z']);
    expect(await walkLines(root, { excludes: ['dir', '!dir/keep/x'] })).toEqual([d('dir'), d('dir/keep'), f('dir/keep/x')]);
  });

  test('a wildcard exception makes the walker descend everywhere', async () => {
    const root = tree(['a/deep/x.keep', 'a/deep/y', 'b/z']);
    expect(await walkLines(root, { excludes: ['*', '!**/*.keep'] })).toEqual([d('a'), d('a/deep'), f('a/deep/x.keep')]);
  });

  test('the Dockerfile and .dockerignore are ordinary entries and can be excluded', async () => {
    const root = tree(['.dockerignore', 'Dockerfile', 'app']);
    expect(await walkLines(root, { excludes: ['Dockerfile', '.dockerignore'] })).toEqual([f('app')]);
  });

  test('stat is the lstat of the entry', async () => {
    const root = tree(['f']);
    writeFileSync(join(root, 'f'), 'twelve bytes');
    const entries = [];
    for await (const e of walkContext(root)) entries.push(e);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.stat.size).toBe(12);
  });
});

describe('follow paths', () => {
  test('symlink targets of follow paths are included, recursively', async () => {
    const root = tree(['data/real/file', 'data/other', 'unrelated']);
    symlinkSync('../data/real', join(root, 'data', 'link')); // relative, inside the root
    mkdirSync(join(root, 'bin'));
    symlinkSync('/data/link', join(root, 'bin', 'l2')); // absolute: re-rooted at the context
    expect(await followLinks(root, ['bin/l2'])).toEqual(['bin/l2', 'data/link', 'data/real']);
    expect(await walkLines(root, { followPaths: ['bin/l2'] })).toEqual([
      d('bin'),
      f('bin/l2'),
      d('data'),
      f('data/link'),
      d('data/real'),
      f('data/real/file'),
    ]);
  });

  test('wildcards in a follow path match link names', async () => {
    const root = tree(['t/a', 't/b']);
    symlinkSync('t/a', join(root, 'l1'));
    symlinkSync('t/b', join(root, 'l2'));
    // As in fsutil, the wildcard itself stays an include pattern beside the resolved targets.
    expect(await followLinks(root, ['l*'])).toEqual(['l*', 't/a', 't/b']);
    expect(await walkLines(root, { followPaths: ['l*'] })).toEqual([f('l1'), f('l2'), d('t'), f('t/a'), f('t/b')]);
  });

  test('a cycle of links terminates', async () => {
    const root = tree(['x']);
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));
    expect(await followLinks(root, ['a'])).toEqual(['a', 'b']);
  });

  test('following "." means no filter', async () => {
    const root = tree(['x', 'y']);
    expect(await followLinks(root, ['.'])).toBeUndefined();
    expect(await walkLines(root, { followPaths: ['.'] })).toEqual([f('x'), f('y')]);
  });
});

describe('errors and cancellation', () => {
  test('a missing root is a ContextWalkError naming it', async () => {
    await expect(walkLines('/nonexistent/tsbuild-ctx')).rejects.toThrow(ContextWalkError);
    await expect(walkLines('/nonexistent/tsbuild-ctx')).rejects.toThrow('/nonexistent/tsbuild-ctx');
  });

  test('an aborted signal stops the walk with CancelledError', async () => {
    const root = tree(['a', 'b', 'c']);
    const ac = new AbortController();
    const seen: string[] = [];
    const run = async (): Promise<void> => {
      for await (const e of walkContext(root, { signal: ac.signal })) {
        seen.push(e.path);
        ac.abort(new Error('enough'));
      }
    };
    await expect(run()).rejects.toThrow(CancelledError);
    expect(seen).toEqual(['a']);
  });

  test('an already-aborted signal yields nothing', async () => {
    const root = tree(['a']);
    await expect(walkLines(root, { signal: AbortSignal.abort() })).rejects.toThrow('cancelled');
  });
});
