/**
 * The launcher's V8 code cache (cmd/launcher/code-cache.ts), through the real built CLI: a command
 * that succeeds leaves one cache file per bundle it ran, named by its command word and the
 * bundle's content hash; the next run uses it and leaves it as it is; a damaged file is rejected by
 * V8 and written again; a failed command writes none; a file of an earlier build of the bundle is
 * removed when a new one is written; TSBUILD_CODE_CACHE=off writes nothing. The CLI's output is
 * the same with and without a cache.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild } from '../helpers/cli.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-code-cache-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = async (cache: string): Promise<string[]> => (await readdir(cache).catch(() => [])).sort();

test('a successful command writes its cache once; the next run uses it; failures write none', async () => {
  const cache = join(dir, 'c1');
  const env = { TSBUILD_CODE_CACHE: cache };
  const first = await runTsbuild(['--help'], { env });
  expect(first.code).toBe(0);
  const written = await files(cache);
  expect(written).toHaveLength(1);
  expect(written[0]).toMatch(new RegExp(`^tsbuild-cli\\.cjs-none-[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]{8}\\.v8$`));
  const file = join(cache, written[0] as string);
  const before = await stat(file);

  const second = await runTsbuild(['--help'], { env });
  expect([second.code, second.stdout]).toEqual([0, first.stdout]);
  expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);

  // A damaged cache: V8 rejects it, the command runs as without one, and the file is written anew.
  await writeFile(file, Buffer.alloc(1000, 7));
  const third = await runTsbuild(['--help'], { env });
  expect([third.code, third.stdout]).toEqual([0, first.stdout]);
  expect((await stat(file)).size).toBeGreaterThan(10_000);

  const bad = await runTsbuild(['nosuchcommand'], { env });
  expect(bad.code).toBe(2);
  expect(await files(cache)).toEqual(written);
});

test('writing a cache removes the files of earlier builds of the bundle', async () => {
  const cache = join(dir, 'c2');
  const env = { TSBUILD_CODE_CACHE: cache };
  expect((await runTsbuild(['--help'], { env })).code).toBe(0);
  const [current] = await files(cache);
  const stale = (current as string).replace(/-[0-9a-f]{16}-/, '-0000000000000000-').replace('-none-', '-images-');
  await writeFile(join(cache, stale), 'old');
  await writeFile(join(cache, 'unrelated.txt'), 'kept');
  expect((await runTsbuild(['images', '--help'], { env })).code).toBe(0);
  const now = await files(cache);
  expect(now).not.toContain(stale);
  expect(now).toContain('unrelated.txt');
  expect(now.filter((f) => f.startsWith('tsbuild-cli.cjs-images-'))).toHaveLength(1);
});

test('TSBUILD_CODE_CACHE=off writes nothing', async () => {
  const home = join(dir, 'home');
  const r = await runTsbuild(['--help'], { env: { TSBUILD_CODE_CACHE: 'off', XDG_CACHE_HOME: home } });
  expect(r.code).toBe(0);
  expect(await files(join(home, 'tsbuild', 'code-cache'))).toEqual([]);
});
