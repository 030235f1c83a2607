import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chmodSync, lstatSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { copy, splitParentsPivot } from '../../../src/worker/fileop/copy.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { canaryIntact, listTree, makeRoots, modeOf, writeTree, type Roots, dockerCopy } from './fixture.js';

let r: Roots;
beforeEach(() => {
  r = makeRoots();
  writeTree(r.src, {
    'home.txt': 'h',
    'homework.md': 'w',
    'homer.go': 'g',
    'app/main.go': 'm',
    'app/README.md': 'r',
    'app/docs/guide.md': 'g',
    'app/docs/keep.md': 'k',
    'app/vendor/lib/x.go': 'x',
    'packages/a/package.json': '{}',
    'packages/a/src/index.js': 'a',
    'packages/b/package.json': '{}',
    'packages/b/README.md': 'b',
  });
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});

const run = (a: CopyAction) => copy(a, { srcRoot: r.src, destRoot: r.dest });

describe('copy: --exclude', () => {
  test('the Dockerfile reference example: COPY --exclude=*.txt hom* /mydir/', async () => {
    await run(dockerCopy('hom*', '/mydir/', { excludePatterns: ['*.txt'] }));
    expect(listTree(r.dest)).toEqual(['d mydir', 'f mydir/homer.go', 'f mydir/homework.md']);
  });

  test('several excludes', async () => {
    await run(dockerCopy('hom*', '/mydir/', { excludePatterns: ['*.txt', '*.md'] }));
    expect(listTree(r.dest)).toEqual(['d mydir', 'f mydir/homer.go']);
  });

  test('patterns inside a copied directory are relative to it; ** spans directories', async () => {
    await run(dockerCopy('app', '/app', { excludePatterns: ['**/*.md', 'vendor'] }));
    expect(listTree(r.dest)).toEqual(['d app', 'd app/docs', 'f app/main.go']);
  });

  test('! re-includes inside an excluded directory', async () => {
    await run(dockerCopy('app', '/app', { excludePatterns: ['docs', '!docs/keep.md'] }));
    expect(listTree(join(r.dest, 'app'))).toEqual(['f README.md', 'd docs', 'f docs/keep.md', 'f main.go', 'd vendor', 'd vendor/lib', 'f vendor/lib/x.go']);
  });

  test('an excluded directory with nothing re-included is not created', async () => {
    await run(dockerCopy('app', '/app', { excludePatterns: ['vendor/**', 'vendor'] }));
    expect(listTree(join(r.dest, 'app')).some((l) => l.includes('vendor'))).toBe(false);
  });

  test('a bare ! is an error', async () => {
    await expect(run(dockerCopy('app', '/app', { excludePatterns: ['!'] }))).rejects.toMatchObject({ code: 'FILEOP_BAD_PATTERN' });
  });
});

describe('copy: include patterns', () => {
  test('only matching entries (and their parents) are copied', async () => {
    await run(dockerCopy('packages', '/p', { includePatterns: ['*/package.json'] }));
    expect(listTree(r.dest)).toEqual(['d p', 'd p/a', 'f p/a/package.json', 'd p/b', 'f p/b/package.json']);
  });
});

describe('copy: --parents', () => {
  test('keeps the source parent directories under the destination', async () => {
    await run(dockerCopy('packages/*/package.json', '/app/', { parents: true }));
    expect(listTree(r.dest)).toEqual(['d app', 'd app/packages', 'd app/packages/a', 'f app/packages/a/package.json', 'd app/packages/b', 'f app/packages/b/package.json']);
  });

  test('a /./ pivot drops what comes before it', async () => {
    await run(dockerCopy('./packages/./a/src/index.js', '/dst/', { parents: true }));
    expect(listTree(r.dest)).toEqual(['d dst', 'd dst/a', 'd dst/a/src', 'f dst/a/src/index.js']);
  });

  test('a directory source keeps its own path too', async () => {
    await run(dockerCopy('app/docs', '/d/', { parents: true }));
    expect(listTree(r.dest)).toEqual(['d d', 'd d/app', 'd d/app/docs', 'f d/app/docs/guide.md', 'f d/app/docs/keep.md']);
  });

  test('recreated parents copy their source directory metadata', async () => {
    chmodSync(join(r.src, 'packages'), 0o750);
    const t = new Date('2010-01-01T00:00:00Z');
    utimesSync(join(r.src, 'packages'), t, t);
    await run(dockerCopy('packages/a/package.json', '/x/', { parents: true }));
    expect(modeOf(r.dest, 'x/packages')).toBe(0o750);
    expect(lstatSync(join(r.dest, 'x/packages')).mtime.toISOString()).toBe(t.toISOString());
  });

  test('the frontend encoding: src is the pivot, an include pattern selects below it', async () => {
    // COPY --parents packages/*/package.json /app/  →  src "/", include "packages/*/package.json"
    await run(dockerCopy('/', '/app/', { parents: true, includePatterns: ['packages/*/package.json'], allowEmptyWildcard: true }));
    expect(listTree(r.dest)).toEqual(['d app', 'd app/packages', 'd app/packages/a', 'f app/packages/a/package.json', 'd app/packages/b', 'f app/packages/b/package.json']);
  });

  test('the frontend encoding with a /./ pivot and a required path', async () => {
    // COPY --parents ./packages/./a/src/index.js /dst/  →  src "/packages", include "a/src/index.js"
    await run(dockerCopy('/packages', '/dst/', { parents: true, includePatterns: ['a/src/index.js'], requiredPaths: ['/packages/a/src/index.js'] }));
    expect(listTree(r.dest)).toEqual(['d dst', 'd dst/a', 'd dst/a/src', 'f dst/a/src/index.js']);
    await expect(
      run(dockerCopy('/packages', '/dst2/', { parents: true, includePatterns: ['a/nope.js'], requiredPaths: ['/packages/a/nope.js'] })),
    ).rejects.toMatchObject({ code: 'FILEOP_SOURCE_NOT_FOUND', message: expect.stringContaining('/packages/a/nope.js') as unknown as string });
  });

  test('pivot splitting', () => {
    expect(splitParentsPivot('./a/./b/c')).toEqual({ base: '/a', pattern: 'b/c' });
    expect(splitParentsPivot('x/y/*.txt')).toEqual({ base: '/', pattern: 'x/y/*.txt' });
    expect(splitParentsPivot('/abs/./rest')).toEqual({ base: '/abs', pattern: 'rest' });
  });
});
