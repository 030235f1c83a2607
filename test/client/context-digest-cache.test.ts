/**
 * The client's context digest cache: a second listing of an unchanged context takes each file's
 * digest from the cache (shown by planting a digest in the cache file: a listing that re-read the
 * file would not return it), while a file whose content or metadata changed (ctime moved) is read
 * again; files changed inside the racy window are never remembered; a corrupt cache file is
 * ignored.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { appendFile, chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContextDigestCache } from '../../src/client/context-digest-cache.js';
import { listContext } from '../../src/client/solve-context-listing.js';

let dir: string;
let ctx: string;
let cacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-digests-'));
  ctx = join(dir, 'ctx');
  cacheDir = join(dir, 'cache');
  await mkdir(ctx);
  await writeFile(join(ctx, 'a.txt'), 'alpha\n');
  await writeFile(join(ctx, 'b.txt'), 'beta\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function digests(cache: ContextDigestCache | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of listContext(ctx, undefined, new AbortController().signal, cache)) {
    if (e.stat.contentDigest) out[e.stat.path ?? ''] = e.stat.contentDigest;
  }
  await cache?.save();
  return out;
}

/**
 * Opens the cache once the clock has passed every context file's last change: the cache takes a
 * file changed in the walk's own millisecond as racy whatever the window (Date.now() is whole
 * milliseconds, file times are not), which a test writing a file just before would hit now and then.
 */
async function openAfterWrites(racyWindowMs: number): Promise<ContextDigestCache> {
  let latest = 0;
  for (const name of await readdir(ctx)) {
    const st = await lstat(join(ctx, name));
    latest = Math.max(latest, st.mtimeMs, st.ctimeMs);
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() <= latest + 1) {
    if (Date.now() > deadline) throw new Error(`the clock does not pass the context's file times (${latest})`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return ContextDigestCache.open(cacheDir, 'k', { racyWindowMs });
}

const PLANTED = 'xxh64:0123456789abcdef';

async function plant(path: string): Promise<void> {
  const [file] = await readdir(cacheDir);
  const full = join(cacheDir, file as string);
  const body = JSON.parse(await readFile(full, 'utf8')) as { paths: string[]; rows: unknown[] };
  const i = body.paths.indexOf(path);
  if (i < 0) throw new Error(`${path} is not in the cache`);
  body.rows[i * 5 + 4] = PLANTED;
  await writeFile(full, JSON.stringify(body));
}

test('unchanged files come from the cache; changed content or metadata is read again', async () => {
  const real = await digests(undefined);
  expect(await digests(await openAfterWrites(0))).toEqual(real);
  await plant('a.txt');
  await plant('b.txt');
  // Both unchanged: both planted digests come back (nothing was read).
  expect(await digests(await openAfterWrites(0))).toEqual({ 'a.txt': PLANTED, 'b.txt': PLANTED });

  await appendFile(join(ctx, 'a.txt'), 'more\n');
  await chmod(join(ctx, 'b.txt'), 0o600);
  const after = await digests(await openAfterWrites(0));
  expect(after['a.txt']).not.toBe(PLANTED);
  expect(after['a.txt']).not.toBe(real['a.txt']);
  // Same bytes, new ctime: read again, so the real digest is back.
  expect(after['b.txt']).toBe(real['b.txt']);
});

test('files changed within the racy window are not remembered; a corrupt cache is ignored', async () => {
  const real = await digests(await openAfterWrites(60_000));
  // Nothing old enough to remember: no entries written.
  const files = existsSync(cacheDir) ? await readdir(cacheDir) : [];
  for (const f of files) expect(JSON.parse(await readFile(join(cacheDir, f), 'utf8'))).toMatchObject({ paths: [], rows: [] });

  await mkdir(cacheDir, { recursive: true });
  await writeFile(join(cacheDir, 'k.json'), '{not json');
  expect(await digests(await openAfterWrites(0))).toEqual(real);
});

test('entries are found when the walk order changed: a new file before them, a removed one', async () => {
  await writeFile(join(ctx, 'c.txt'), 'gamma\n');
  await digests(await openAfterWrites(0));
  await plant('a.txt');
  await plant('c.txt');
  await writeFile(join(ctx, '0.txt'), 'first\n');
  await rm(join(ctx, 'b.txt'));
  const got = await digests(await openAfterWrites(0));
  expect(got['a.txt']).toBe(PLANTED);
  expect(got['c.txt']).toBe(PLANTED);
  expect(got['0.txt']).toMatch(/^xxh64:[0-9a-f]{16}$/);
  expect(Object.keys(got).sort()).toEqual(['0.txt', 'a.txt', 'c.txt']);
});
