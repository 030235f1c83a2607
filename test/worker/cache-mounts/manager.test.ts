/** The cache-mount manager on a real data root: creation, sharing modes, cross-process locks, du/prune. */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancelledError } from '../../../src/util/errors.js';
import { cacheMountId, DiskCacheMountManager } from '../../../src/worker/cache-mounts/manager.js';
import type { CacheMountLease } from '../../../src/worker/cache-mounts/types.js';
import { repoRoot } from '../../helpers/paths.js';
import { describeIf, isRoot } from '../../helpers/skip.js';

const signal = (): AbortSignal => AbortSignal.timeout(30_000);

/** Resolves to true if `p` settles within `ms`; used to show a waiter is (still) waiting. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; }, () => { done = true; });
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

describe('cache mount manager', () => {
  let dir: string;
  let mgr: DiskCacheMountManager;
  const leases: CacheMountLease[] = [];
  const acquire = async (...args: Parameters<DiskCacheMountManager['acquire']>): Promise<CacheMountLease> => {
    const l = await mgr.acquire(...args);
    leases.push(l);
    return l;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-cachemounts-'));
    mgr = new DiskCacheMountManager({ root: dir });
  });
  afterEach(async () => {
    for (const l of leases.splice(0)) await l.release();
    await rm(dir, { recursive: true, force: true });
  });

  test('default id is the target', () => {
    expect(cacheMountId(undefined, '/root/.cache')).toBe('/root/.cache');
    expect(cacheMountId('', '/t')).toBe('/t');
    expect(cacheMountId('go', '/t')).toBe('go');
  });

  test('a new cache directory gets the requested mode and owner, under ROOT/cachemounts', async () => {
    const l = await acquire({ id: 'npm', sharing: 'shared', mode: 0o700, uid: 1000, gid: 2000, signal: signal() });
    expect(l.path.startsWith(join(dir, 'cachemounts') + '/')).toBe(true);
    const st = await stat(l.path);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o700, 1000, 2000]);
    const d = await acquire({ id: 'plain', sharing: 'shared', signal: signal() });
    const sd = await stat(d.path);
    expect([sd.mode & 0o7777, sd.uid, sd.gid]).toEqual([0o755, 0, 0]);
  });

  test('content survives across managers (builds) on the same root', async () => {
    const a = await mgr.acquire({ id: 'go-build', sharing: 'locked', signal: signal() });
    await writeFile(join(a.path, 'obj'), 'compiled');
    await a.release();
    const again = await new DiskCacheMountManager({ root: dir }).acquire({ id: 'go-build', sharing: 'shared', signal: signal() });
    leases.push(again);
    expect(again.path).toBe(a.path);
    expect(await readFile(join(again.path, 'obj'), 'utf8')).toBe('compiled');
  });

  test('shared: concurrent users get the same directory', async () => {
    const a = await acquire({ id: 'c', sharing: 'shared', signal: signal() });
    const b = await acquire({ id: 'c', sharing: 'shared', signal: signal() });
    expect(b.path).toBe(a.path);
  });

  test('shared: users racing to create the cache still end up in one directory', async () => {
    const ls = await Promise.all(Array.from({ length: 6 }, () => acquire({ id: 'race', sharing: 'shared', signal: signal() })));
    expect(new Set(ls.map((l) => l.path)).size).toBe(1);
  });

  test('private: users racing to create the cache each get their own directory', async () => {
    const ls = await Promise.all(Array.from({ length: 4 }, () => acquire({ id: 'race', sharing: 'private', signal: signal() })));
    expect(new Set(ls.map((l) => l.path)).size).toBe(4);
  });

  test('private: a concurrent user gets a fresh directory; released ones are reused', async () => {
    const a = await acquire({ id: 'c', sharing: 'private', signal: signal() });
    await writeFile(join(a.path, 'a'), '');
    const b = await acquire({ id: 'c', sharing: 'private', signal: signal() });
    expect(b.path).not.toBe(a.path);
    expect(await readdir(b.path)).toEqual([]);
    await a.release();
    const c = await acquire({ id: 'c', sharing: 'private', signal: signal() });
    expect(c.path).toBe(a.path);
    // A shared user also does not get a directory a private user holds.
    const s = await acquire({ id: 'c', sharing: 'shared', signal: signal() });
    expect(s.path).not.toBe(c.path);
    expect(s.path).not.toBe(b.path);
  });

  test('locked: a second user waits until the first releases', async () => {
    const a = await mgr.acquire({ id: 'apt', sharing: 'locked', signal: signal() });
    const second = mgr.acquire({ id: 'apt', sharing: 'locked', signal: signal() });
    expect(await settlesWithin(second, 300)).toBe(false);
    await a.release();
    const b = await second;
    leases.push(b);
    expect(b.path).toBe(a.path);
  });

  test('locked: a wait can be aborted, and the lock is still usable afterwards', async () => {
    const a = await mgr.acquire({ id: 'apt', sharing: 'locked', signal: signal() });
    const ac = new AbortController();
    const waiting = mgr.acquire({ id: 'apt', sharing: 'locked', signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    await a.release();
    await acquire({ id: 'apt', sharing: 'locked', signal: signal() });
  });

  test('from/source: a new cache is seeded from a directory; another seed is another cache', async () => {
    const seed = join(dir, 'seed');
    await mkdir(join(seed, 'sub'), { recursive: true });
    await writeFile(join(seed, 'sub', 'f'), 'seeded');
    await symlink('sub/f', join(seed, 'link'));
    await chown(join(seed, 'sub', 'f'), 1234, 5678);
    const a = await acquire({ id: 'x', sharing: 'shared', seed: { from: seed, key: 'snap-1' }, signal: signal() });
    expect(await readFile(join(a.path, 'link'), 'utf8')).toBe('seeded');
    const st = await stat(join(a.path, 'sub', 'f'));
    expect([st.uid, st.gid]).toEqual([1234, 5678]);
    const plain = await acquire({ id: 'x', sharing: 'shared', signal: signal() });
    expect(plain.path).not.toBe(a.path);
    expect(await readdir(plain.path)).toEqual([]);
  });

  test('list shows usage and use; remove refuses while in use; prune removes unused ones', async () => {
    const a = await mgr.acquire({ id: 'big', sharing: 'shared', signal: signal() });
    await writeFile(join(a.path, 'blob'), Buffer.alloc(256 * 1024, 1));
    const b = await mgr.acquire({ id: 'small', sharing: 'shared', signal: signal() });
    await b.release();
    const listed = await mgr.list({ signal: signal() });
    expect(listed.map((i) => [i.id, i.inUse, i.instances])).toEqual([['big', true, 1], ['small', false, 1]]);
    expect(listed[0]?.sizeBytes).toBeGreaterThanOrEqual(256 * 1024);
    expect(listed[0]?.lastUsedAt).toBeGreaterThanOrEqual(listed[0]?.createdAt ?? Infinity);

    await expect(mgr.remove('big', { signal: signal() })).rejects.toMatchObject({ code: 'CACHE_MOUNT_IN_USE' });
    expect((await mgr.prune({ signal: signal() })).map((i) => i.id)).toEqual(['small']);
    await a.release();
    expect(await mgr.remove('big', { signal: signal() })).toBe(true);
    expect(await mgr.remove('big', { signal: signal() })).toBe(false);
    expect(await mgr.list({ signal: signal() })).toEqual([]);
    // A removed cache starts afresh on next use.
    const c = await acquire({ id: 'big', sharing: 'shared', signal: signal() });
    expect(await readdir(c.path)).toEqual([]);
  });
});

const distManager = join(repoRoot, 'dist', 'src', 'worker', 'cache-mounts', 'manager.js');

/** Another tsbuild process holding a lease: prints "held", releases on a stdin line, or dies on SIGKILL. */
function holder(root: string, id: string, sharing: string): ChildProcessWithoutNullStreams {
  const code = `
    const { DiskCacheMountManager } = await import(${JSON.stringify(pathToFileURL(distManager).href)});
    const m = new DiskCacheMountManager({ root: ${JSON.stringify(root)} });
    const l = await m.acquire({ id: ${JSON.stringify(id)}, sharing: ${JSON.stringify(sharing)}, signal: AbortSignal.timeout(60000) });
    process.stdout.write('held ' + l.path + '\\n');
    process.stdin.once('data', async () => { await l.release(); process.stdout.write('released\\n'); process.exit(0); });
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, NODE_OPTIONS: '' } });
}

function line(child: ChildProcessWithoutNullStreams, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const l = buf.split('\n').find((x) => x.startsWith(prefix));
      if (l !== undefined) resolve(l);
    });
    child.once('exit', (c) => reject(new Error(`holder exited (${String(c)}) before "${prefix}"`)));
  });
}

describeIf(isRoot && existsSync(distManager), 'needs root and a built dist/ (npm run build)', 'cache mount locks across processes', () => {
  let dir: string;
  let mgr: DiskCacheMountManager;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-cachemounts-x-'));
    mgr = new DiskCacheMountManager({ root: dir });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('locked: this process waits for another process to release', async () => {
    const other = holder(dir, 'apt', 'locked');
    const held = await line(other, 'held ');
    const mine = mgr.acquire({ id: 'apt', sharing: 'locked', signal: signal() });
    expect(await settlesWithin(mine, 300)).toBe(false);
    other.stdin.write('go\n');
    await line(other, 'released');
    const l = await mine;
    expect(`held ${l.path}`).toBe(held);
    await l.release();
  });

  test('locked: a holder that crashes (SIGKILL) frees the lock', async () => {
    const other = holder(dir, 'apt', 'locked');
    await line(other, 'held ');
    const mine = mgr.acquire({ id: 'apt', sharing: 'locked', signal: signal() });
    expect(await settlesWithin(mine, 300)).toBe(false);
    other.kill('SIGKILL');
    const l = await mine;
    await l.release();
  });

  test('private across processes: different directories; shared: the same one', async () => {
    const other = holder(dir, 'p', 'private');
    const theirs = (await line(other, 'held ')).slice(5);
    const mine = await mgr.acquire({ id: 'p', sharing: 'private', signal: signal() });
    expect(mine.path).not.toBe(theirs);
    await mine.release();
    other.stdin.write('go\n');
    await line(other, 'released');

    const sharer = holder(dir, 's', 'shared');
    const sharedTheirs = (await line(sharer, 'held ')).slice(5);
    const sharedMine = await mgr.acquire({ id: 's', sharing: 'shared', signal: signal() });
    expect(sharedMine.path).toBe(sharedTheirs);
    expect((await mgr.list({ signal: signal() })).find((i) => i.id === 's')?.inUse).toBe(true);
    await expect(mgr.remove('s', { signal: signal() })).rejects.toMatchObject({ code: 'CACHE_MOUNT_IN_USE' });
    await sharedMine.release();
    sharer.stdin.write('go\n');
    await line(sharer, 'released');
    expect(await mgr.remove('s', { signal: signal() })).toBe(true);
  });
});
