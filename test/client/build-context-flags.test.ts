/**
 * `--build-context NAME=VALUE` values as the client takes them (src/client/build-flags.ts): images
 * and URLs as given, a directory resolved against the working directory (it must be one), and the
 * forms tsbuild does not read (oci-layout://, bake's target:) refused with the value named.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuildContexts } from '../../src/client/build-flags.js';
import { UsageError } from '../../src/util/errors.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-bc-flags-'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'file.txt'), 'x');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

test('images and URLs as given, directories made absolute', () => {
  expect(parseBuildContexts([
    'alpine=docker-image://localhost/busybox:1',
    'empty=docker-image://scratch',
    'repo=https://example.invalid/r.git#main',
    'scp=git@example.invalid:org/r.git',
    'src=src',
    'abs=' + join(dir, 'src'),
  ], dir)).toEqual({
    alpine: 'docker-image://localhost/busybox:1',
    empty: 'docker-image://scratch',
    repo: 'https://example.invalid/r.git#main',
    scp: 'git@example.invalid:org/r.git',
    src: join(dir, 'src'),
    abs: join(dir, 'src'),
  });
});

test.each([
  ['noequals', 'expected NAME=VALUE'],
  ['=src', 'expected NAME=VALUE'],
  ['x=', 'expected NAME=VALUE'],
  ['x=missing', `${join('DIR', 'missing')}: no such directory`],
  ['x=file.txt', `${join('DIR', 'file.txt')} is not a directory`],
  ['x=oci-layout://layout@sha256:00', 'only docker-image://REF, a Git or HTTP(S) URL or a directory is supported'],
  ['x=target:other', 'only docker-image://REF, a Git or HTTP(S) URL or a directory is supported'],
])('%s is refused', (value, why) => {
  let err: unknown;
  try {
    parseBuildContexts([value], dir, 'build: ');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message.replaceAll(dir, 'DIR')).toBe(`build: invalid --build-context "${value}": ${why}`);
});

test('a name given twice is refused', () => {
  expect(() => parseBuildContexts(['a=src', 'a=docker-image://x'], dir)).toThrow('invalid --build-context "a=docker-image://x": a is given twice');
});
