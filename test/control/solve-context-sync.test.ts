/**
 * The daemon's copy of a client context: a listing that would write outside the copy (`..`, an
 * absolute path, a path beneath a listed symlink, a file without its parent directory) is refused
 * before anything is written; an unchanged listing fetches nothing; removed files disappear; an
 * unchanged listing touches no file (ctimes stay, so the engine's stat cache keeps answering) while
 * changed modes and times are applied and a directory's time is set back after a file was added;
 * the listing a store last synced is answered from memory, but a store that did not sync it (a
 * restarted daemon) compares the copy again, and a sync that failed midway is never trusted; a
 * changed file is written as a new inode, never in place, and a file linked out of the copy (as a
 * COPY links it into a layer) keeps its attributes when the listing changes them.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { existsSync, linkSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { tsbuild } from '../../src/client/gen/control.js';
import type { FetchFiles } from '../../src/control/context-copy-receive.js';
import { ContextSyncStore } from '../../src/control/solve-context-sync.js';
import { countPoolTrips } from '../helpers/pool-trips.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-sync-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const d = (fileId: number, path: string): FileStat => ({ fileId, path, mode: 0o040755, uid, gid, mtimeNs: 0 });
const f = (fileId: number, path: string, digest: string, size: number): FileStat => ({ fileId, path, mode: 0o100644, uid, gid, size, mtimeNs: 0, contentDigest: digest });
const l = (fileId: number, path: string, target: string): FileStat => ({ fileId, path, mode: 0o120777, uid, gid, mtimeNs: 0, linkTarget: target });

function serving(files: Readonly<Record<number, string>>, asked: number[][]): FetchFiles {
  return (ids) => {
    asked.push([...ids]);
    return (async function* () {
      for (const id of ids) yield { fileId: id, data: Buffer.from(files[id] ?? ''), eof: true };
    })();
  };
}

const opts = () => ({ signal: new AbortController().signal, maxBytes: 0 });

test.each([
  ['a parent escape', [f(1, '../x', 'xxh64:1', 1)]],
  ['an absolute path', [f(1, '/etc/x', 'xxh64:1', 1)]],
  ['a path beneath a symlink', [l(1, 'a', '/tmp'), f(2, 'a/x', 'xxh64:1', 1)]],
  ['a file without its directory', [f(1, 'sub/x', 'xxh64:1', 1)]],
])('refuses %s before writing anything', async (_what, listing) => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  try {
    const asked: number[][] = [];
    await expect(store.sync(held.dir, listing, serving({}, asked), opts())).rejects.toMatchObject({ code: 'CONTEXT_BAD_PATH' });
    expect(asked).toEqual([]);
  } finally {
    held.release();
  }
});

test('fetches only what changed and removes what the listing dropped', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  try {
    const asked: number[][] = [];
    const first = [d(1, 'sub'), f(2, 'sub/a', 'xxh64:a', 1), f(3, 'b', 'xxh64:b', 2)];
    expect(await store.sync(held.dir, first, serving({ 2: 'A', 3: 'BB' }, asked), opts())).toEqual({ bytes: 3, files: 2, totalFiles: 2, totalBytes: 3, listing: 3 });
    expect(await store.sync(held.dir, first, serving({}, asked), opts())).toEqual({ bytes: 0, files: 0, totalFiles: 2, totalBytes: 3, listing: 3 });
    const second = [d(1, 'sub'), f(2, 'sub/a', 'xxh64:a2', 3)];
    expect(await store.sync(held.dir, second, serving({ 2: 'AAA' }, asked), opts())).toMatchObject({ bytes: 3, files: 1 });
    expect(asked).toEqual([[2, 3], [2]]);
    expect(readFileSync(join(held.dir, 'sub/a'), 'utf8')).toBe('AAA');
    expect(existsSync(join(held.dir, 'b'))).toBe(false);
  } finally {
    held.release();
  }
});

test('an unchanged listing touches nothing; changed modes and times are applied, directory times restored', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  const ns = (s: number): number => s * 1e9 + 123_456_789;
  const at = (e: FileStat, s: number): FileStat => ({ ...e, mtimeNs: ns(s) });
  try {
    const first = [at(d(1, 'sub'), 1_600_000_000), at(f(2, 'sub/a', 'xxh64:a', 1), 1_600_000_100), at(f(3, 'b', 'xxh64:b', 2), 1_600_000_200)];
    await store.sync(held.dir, first, serving({ 2: 'A', 3: 'BB' }, []), opts());
    const stats = (): Record<string, { ctimeNs: bigint; mtimeNs: bigint; mode: bigint }> => Object.fromEntries(
      ['sub', 'sub/a', 'b', 'sub/c'].filter((p) => existsSync(join(held.dir, p))).map((p) => {
        const st = lstatSync(join(held.dir, p), { bigint: true });
        return [p, { ctimeNs: st.ctimeNs, mtimeNs: st.mtimeNs, mode: st.mode & 0o7777n }];
      }),
    );
    const before = stats();
    // Wait until the clock has moved on, so that any touch would show as a new ctime.
    const t0 = process.hrtime.bigint();
    while (process.hrtime.bigint() - t0 < 20_000_000n) await new Promise((r) => setImmediate(r));
    await store.sync(held.dir, first, serving({}, []), opts());
    expect(stats()).toEqual(before);

    const second = [at(d(1, 'sub'), 1_600_000_000), { ...at(f(2, 'sub/a', 'xxh64:a', 1), 1_600_000_300), mode: 0o100600 }, at(f(3, 'b', 'xxh64:b', 2), 1_600_000_200), at(f(4, 'sub/c', 'xxh64:c', 1), 1_600_000_400)];
    await store.sync(held.dir, second, serving({ 4: 'C' }, []), opts());
    const after = stats();
    expect(after['sub/a']?.mode).toBe(0o600n);
    expect(Number(after['sub/a']?.mtimeNs) / 1e9).toBeCloseTo(1_600_000_300.123456789, 5);
    expect(Number(after['sub']?.mtimeNs) / 1e9).toBeCloseTo(1_600_000_000.123456789, 5);
    expect(after['b']).toEqual(before['b']);
  } finally {
    held.release();
  }
});

test('a new store over the same copy compares it again: an unchanged listing fetches and touches nothing', async () => {
  const root = join(dir, 'contexts');
  const listing = [d(1, 'sub'), f(2, 'sub/a', 'xxh64:a', 1), f(3, 'b', 'xxh64:b', 2)];
  const first = new ContextSyncStore(root);
  const held = await first.acquire('local', 'k');
  try {
    await first.sync(held.dir, listing, serving({ 2: 'A', 3: 'BB' }, []), opts());
  } finally {
    held.release();
  }
  const ctimeOf = (p: string): bigint => lstatSync(join(held.dir, p), { bigint: true }).ctimeNs;
  const before = ['sub', 'sub/a', 'b'].map(ctimeOf);
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - t0 < 20_000_000n) await new Promise((r) => setImmediate(r));
  const second = new ContextSyncStore(root);
  const again = await second.acquire('local', 'k');
  try {
    const asked: number[][] = [];
    expect(await second.sync(again.dir, listing, serving({}, asked), opts())).toEqual({ bytes: 0, files: 0, totalFiles: 2, totalBytes: 3, listing: 3 });
    expect(asked).toEqual([]);
    expect(['sub', 'sub/a', 'b'].map(ctimeOf)).toEqual(before);
  } finally {
    again.release();
  }
});

test('after a sync that failed midway, the listing synced before it is compared and restored again', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  try {
    const asked: number[][] = [];
    const first = [f(1, 'a', 'xxh64:a', 1)];
    await store.sync(held.dir, first, serving({ 1: 'A' }, asked), opts());
    // The client sends file 2 and then ends without file 3: file 2 is already in the copy.
    const broken: FetchFiles = (ids) => {
      asked.push([...ids]);
      return (async function* () {
        yield { fileId: 2, data: Buffer.from('B'), eof: true };
      })();
    };
    const second = [f(1, 'a', 'xxh64:a', 1), f(2, 'b', 'xxh64:b', 1), f(3, 'c', 'xxh64:c', 1)];
    await expect(store.sync(held.dir, second, broken, opts())).rejects.toMatchObject({ code: 'SOLVE_PROTOCOL' });
    expect(existsSync(join(held.dir, 'b'))).toBe(true);
    expect(await store.sync(held.dir, first, serving({ 1: 'A' }, asked), opts())).toMatchObject({ totalFiles: 1, totalBytes: 1 });
    expect(existsSync(join(held.dir, 'b'))).toBe(false);
    expect(readFileSync(join(held.dir, 'a'), 'utf8')).toBe('A');
  } finally {
    held.release();
  }
});

test('a changed file is a new inode (a hard link to the old one keeps its bytes); files in several chunks arrive whole, no temp dir is left', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  try {
    const asked: number[][] = [];
    await store.sync(held.dir, [f(1, 'a', 'xxh64:a', 3)], serving({ 1: 'old' }, asked), opts());
    linkSync(join(held.dir, 'a'), join(dir, 'shared'));
    const chunked: FetchFiles = (ids) => {
      asked.push([...ids]);
      return (async function* () {
        yield { fileId: 1, data: Buffer.from('new'), eof: true };
        yield { fileId: 2, data: Buffer.from('big '), eof: false };
        yield { fileId: 2, data: Buffer.from('file'), eof: true };
      })();
    };
    const second = [f(1, 'a', 'xxh64:a2', 3), f(2, 'b', 'xxh64:b', 8)];
    expect(await store.sync(held.dir, second, chunked, opts())).toMatchObject({ bytes: 11, files: 2 });
    expect(readFileSync(join(held.dir, 'a'), 'utf8')).toBe('new');
    expect(readFileSync(join(dir, 'shared'), 'utf8')).toBe('old');
    expect(readFileSync(join(held.dir, 'b'), 'utf8')).toBe('big file');
    expect(readdirSync(join(dir, 'contexts')).filter((n) => n.endsWith('.incoming'))).toEqual([]);
  } finally {
    held.release();
  }
});

test('a file a layer shares (linked out of the copy) keeps its attributes: new ones go to a new inode of the copy', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  const ns = (s: number): number => s * 1e9 + 500_000_000;
  try {
    const a = { ...f(1, 'a', 'xxh64:a', 1), mtimeNs: ns(1_600_000_000) };
    const b = { ...f(2, 'b', 'xxh64:b', 1), mtimeNs: ns(1_600_000_000) };
    await store.sync(held.dir, [a, b], serving({ 1: 'A', 2: 'B' }, []), opts());
    // As a COPY from the daemon's copy links its files into a layer.
    linkSync(join(held.dir, 'a'), join(dir, 'layer-a'));
    linkSync(join(held.dir, 'b'), join(dir, 'layer-b'));
    const before = lstatSync(join(dir, 'layer-a'), { bigint: true });
    const asked: number[][] = [];
    await store.sync(held.dir, [{ ...a, mode: 0o100600, mtimeNs: ns(1_700_000_000) }, b], serving({}, asked), opts());
    expect(asked).toEqual([]);
    const layerA = lstatSync(join(dir, 'layer-a'), { bigint: true });
    expect([layerA.ino, layerA.mode, layerA.mtimeNs, layerA.nlink]).toEqual([before.ino, before.mode, before.mtimeNs, 1n]);
    const copyA = lstatSync(join(held.dir, 'a'), { bigint: true });
    expect(copyA.ino).not.toBe(before.ino);
    expect(copyA.mode & 0o7777n).toBe(0o600n);
    expect(Number(copyA.mtimeNs) / 1e9).toBeCloseTo(1_700_000_000.5, 5);
    expect(readFileSync(join(held.dir, 'a'), 'utf8')).toBe('A');
    // An unchanged file keeps its one inode with the layer.
    expect(lstatSync(join(held.dir, 'b')).ino).toBe(lstatSync(join(dir, 'layer-b')).ino);
    expect(readdirSync(join(dir, 'contexts')).filter((n) => n.endsWith('.detach'))).toEqual([]);
  } finally {
    held.release();
  }
});

test('set-user-ID and set-group-ID bits survive the owner being set, for files written whole or in chunks', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  try {
    const chunked: FetchFiles = () => (async function* () {
      yield { fileId: 1, data: Buffer.from('x'), eof: true };
      yield { fileId: 2, data: Buffer.from('y'), eof: false };
      yield { fileId: 2, data: Buffer.from('z'), eof: true };
    })();
    const listing = [{ ...f(1, 'one', 'xxh64:1', 1), mode: 0o104755 }, { ...f(2, 'two', 'xxh64:2', 2), mode: 0o102755 }];
    await store.sync(held.dir, listing, chunked, opts());
    expect(lstatSync(join(held.dir, 'one')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(held.dir, 'two')).mode & 0o7777).toBe(0o2755);
  } finally {
    held.release();
  }
});

test('a delta sync of an edited file makes no thread-pool trip (the manifest read, removed and rewritten synchronously); files sent unasked are taken even when the copy holds them', async () => {
  const store = new ContextSyncStore(join(dir, 'contexts'));
  const held = await store.acquire('local', 'k');
  try {
    const asked: number[][] = [];
    const first = [d(1, 'sub'), f(2, 'sub/a', 'xxh64:a', 1), f(3, 'b', 'xxh64:b', 2)];
    await store.sync(held.dir, first, serving({ 2: 'A', 3: 'BB' }, asked), opts());
    const known = store.knownDigest(held.dir);
    // sub/a edited; b touched only (same digest), its bytes sent with the delta anyway.
    const edited = f(1, 'sub/a', 'xxh64:a2', 2);
    const touched = { ...f(2, 'b', 'xxh64:b', 2), mtimeNs: 1_000_000_000 };
    const merged = [{ ...d(1, 'sub'), fileId: 0 }, { ...touched }, edited].sort((x, y) => ((x.path ?? '') < (y.path ?? '') ? -1 : 1));
    const { result, trips } = await countPoolTrips(() => store.syncDelta(held.dir, known, merged, { changed: [edited, touched], removed: [] }, serving({ 1: 'A2', 2: 'BB' }, asked), { ...opts(), coming: new Set([1, 2]) }));
    expect(trips).toEqual([]);
    expect(result).toMatchObject({ bytes: 4, files: 2 });
    expect(asked.at(-1)).toEqual([1, 2]);
    expect(readFileSync(join(held.dir, 'sub/a'), 'utf8')).toBe('A2');
    expect(lstatSync(join(held.dir, 'b')).mtimeMs).toBe(1000);
    expect(JSON.parse(readFileSync(`${held.dir}.manifest.json`, 'utf8'))).toEqual({ 'sub/a': { digest: 'xxh64:a2' }, b: { digest: 'xxh64:b' } });
  } finally {
    held.release();
  }
});
