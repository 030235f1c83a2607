/**
 * The launcher's V8 code cache (cmd/launcher/code-cache.ts), through the real built CLI: a command
 * that succeeds leaves one cache file per bundle it ran, named by its command word, how it ran
 * (in this process, through a daemon, or its --help) and the bundle's content hash; the next run
 * uses it and leaves it as it is; a run of another kind keeps a file of its own (read from the first
 * kind's until it has one); a damaged file is rejected by V8 and written again; a failed command
 * writes none; a file of an earlier build of the bundle is removed when a new one is written;
 * TSBUILD_CODE_CACHE=off writes nothing. The CLI's output is the same with and without a cache.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';

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
  expect(written[0]).toMatch(new RegExp(`^tsbuild-cli\\.cjs-none\\.help-[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]{8}\\.v8$`));
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
  const stale = (current as string).replace(/-[0-9a-f]{16}-/, '-0000000000000000-').replace('-none.help-', '-images.help-');
  await writeFile(join(cache, stale), 'old');
  await writeFile(join(cache, 'unrelated.txt'), 'kept');
  expect((await runTsbuild(['images', '--help'], { env })).code).toBe(0);
  const now = await files(cache);
  expect(now).not.toContain(stale);
  expect(now).toContain('unrelated.txt');
  expect(now.filter((f) => f.startsWith('tsbuild-cli.cjs-images.help-'))).toHaveLength(1);
});

test('in-process runs, daemon runs and --help keep caches of their own', async () => {
  // A cache V8 accepts is never written again: one shared by every kind of run held only the code
  // of whichever ran first (an in-process build, or `build --help`), and each daemon build after it
  // compiled the gRPC client again.
  const cache = join(dir, 'c3');
  const env = { TSBUILD_CODE_CACHE: cache };
  const cli = (kind: string): Promise<string[]> => files(cache).then((fs) => fs.filter((f) => f.startsWith(`tsbuild-cli.cjs-${kind}-`)));
  expect((await runTsbuild(['images', '--help'], { env })).code).toBe(0);
  expect((await runTsbuild(['--root', join(dir, 'local-root'), 'images'], { env })).code).toBe(0);
  const [help] = await cli('images.help');
  const [local] = await cli('images');
  expect([help, local].every((f) => f !== undefined)).toBe(true);
  expect(await cli('images.daemon')).toEqual([]);

  const sock = join(dir, 'd.sock');
  const daemon = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'daemon-root')]);
  try {
    const first = await runTsbuild(['--addr', `unix://${sock}`, 'images'], { env });
    expect(first.code).toBe(0);
    const [remote] = await cli('images.daemon');
    if (remote === undefined) throw new Error(`no daemon cache file among ${(await files(cache)).join(', ')}`);
    const remoteFile = join(cache, remote);
    // Read from the in-process file (nothing else existed), written with the client's code added.
    expect((await stat(remoteFile)).size).toBeGreaterThan((await stat(join(cache, local as string))).size);
    const before = (await stat(remoteFile)).mtimeMs;
    const second = await runTsbuild(['--addr', `unix://${sock}`, 'images'], { env });
    expect([second.code, second.stdout]).toEqual([0, first.stdout]);
    expect((await stat(remoteFile)).mtimeMs).toBe(before);
  } finally {
    await daemon.stop();
  }
  // The in-process and help files were read or left alone, never rewritten by the daemon runs.
  expect(await cli('images')).toEqual([local]);
  expect(await cli('images.help')).toEqual([help]);
});

test('a wrong guess of the kind (a stale socket file) writes the kind that ran, once', async () => {
  // A socket file at the default path makes the launcher expect a daemon; `parse` never uses one.
  const cache = join(dir, 'c4');
  const sock = join(dir, 'stale.sock');
  await writeFile(sock, '');
  const dockerfile = join(dir, 'Dockerfile.parse');
  await writeFile(dockerfile, 'FROM busybox\nRUN echo hi\n');
  const env = { TSBUILD_CODE_CACHE: cache, TSBUILD_DEFAULT_SOCKET: sock };
  const first = await runTsbuild(['parse', '-f', dockerfile], { env });
  expect(first.code).toBe(0);
  const written = await files(cache);
  expect(written.map((f) => f.replace(/-[0-9a-f]{16}-.*$/, ''))).toEqual(['tsbuild-cli.cjs-parse', 'tsbuild-engine.cjs-parse']);
  const times = await Promise.all(written.map(async (f) => (await stat(join(cache, f))).mtimeMs));
  const second = await runTsbuild(['parse', '-f', dockerfile], { env });
  expect([second.code, second.stdout]).toEqual([0, first.stdout]);
  expect(await files(cache)).toEqual(written);
  expect(await Promise.all(written.map(async (f) => (await stat(join(cache, f))).mtimeMs))).toEqual(times);
});

test('TSBUILD_CODE_CACHE=off writes nothing', async () => {
  const home = join(dir, 'home');
  const r = await runTsbuild(['--help'], { env: { TSBUILD_CODE_CACHE: 'off', XDG_CACHE_HOME: home } });
  expect(r.code).toBe(0);
  expect(await files(join(home, 'tsbuild', 'code-cache'))).toEqual([]);
});
