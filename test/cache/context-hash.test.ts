import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheStorage } from '../../src/cache/cache-storage.js';
import { readFileChunks } from '../../src/cache/context-contents.js';
import { ContextHasher, hashContext } from '../../src/cache/context-hash.js';
import type { FileReader } from '../../src/cache/types.js';
import { countPoolTrips } from '../helpers/pool-trips.js';
import { isRoot, testIf } from '../helpers/skip.js';
import type { TestRoot } from './helpers/temp-root.js';
import { makeTestRoot } from './helpers/temp-root.js';

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
  }
}

/** A reader that counts which files were actually read. */
function countingReader(): { reader: FileReader; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    reader: (p, o) => {
      reads.push(p);
      return readFileChunks(p, o);
    },
  };
}

describe('context hashing', () => {
  let dir: string;
  let ctx: string;
  let h: ContextHasher;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-ctx-test-'));
    ctx = join(dir, 'ctx');
    await tree(ctx, {
      'layer1/a.txt': 'one',
      'layer2/b.txt': 'two',
      'layer2/sub/c.txt': 'three',
      'layer3/d.txt': 'four',
      'app.js': 'console.log(1)',
      'notes.md': 'notes',
      'README.txt': 'readme',
    });
    h = await ContextHasher.create();
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const sum = (sel: string, opts = {}): Promise<string> => h.checksumPath(ctx, sel, opts);

  test('the whole context as a wildcard selection (COPY . /dst) covers every file', async () => {
    const before = await sum('/', { wildcard: true, allowEmptyWildcard: true });
    expect(await sum('.', { wildcard: true, allowEmptyWildcard: true })).toBe(before);
    await writeFile(join(ctx, 'layer2/sub/c.txt'), 'THREE');
    expect(await sum('/', { wildcard: true, allowEmptyWildcard: true })).not.toBe(before);
  });

  test('changing layer2 changes only the checksum of layer2', async () => {
    const before = await Promise.all(['layer1', 'layer2', 'layer3', 'app.js'].map((s) => sum(s)));
    expect(new Set(before).size).toBe(4);
    expect(before[0]).toMatch(/^xxh64:[0-9a-f]{16}$/);
    await writeFile(join(ctx, 'layer2/sub/c.txt'), 'THREE');
    const after = await Promise.all(['layer1', 'layer2', 'layer3', 'app.js'].map((s) => sum(s)));
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[2]).toBe(before[2]);
    expect(after[3]).toBe(before[3]);
  });

  test('touching an unrelated file changes nothing; an mtime-only change of the selected file changes nothing', async () => {
    const before = await sum('app.js');
    await writeFile(join(ctx, 'notes.md'), 'other notes');
    const later = new Date(Date.now() + 3600_000);
    await utimes(join(ctx, 'app.js'), later, later);
    await utimes(join(ctx, 'layer2'), later, later);
    expect(await sum('app.js')).toBe(before);
    expect(await sum('/app.js')).toBe(before);
  });

  test('content, mode and symlink target changes change the checksum', async () => {
    const c0 = await sum('layer1');
    await writeFile(join(ctx, 'layer1/a.txt'), 'uno');
    const c1 = await sum('layer1');
    expect(c1).not.toBe(c0);
    await chmod(join(ctx, 'layer1/a.txt'), 0o755);
    const c2 = await sum('layer1');
    expect(c2).not.toBe(c1);
    await symlink('a.txt', join(ctx, 'layer1/link'));
    const c3 = await sum('layer1');
    expect(c3).not.toBe(c2);
    await unlink(join(ctx, 'layer1/link'));
    await symlink('elsewhere', join(ctx, 'layer1/link'));
    expect(await sum('layer1')).not.toBe(c3);
    // A new empty directory is part of the tree too.
    const c4 = await sum('layer1');
    await mkdir(join(ctx, 'layer1/empty'));
    expect(await sum('layer1')).not.toBe(c4);
  });

  testIf(isRoot, 'chown needs root', 'uid/gid changes change the checksum', async () => {
    const c0 = await sum('app.js');
    await chown(join(ctx, 'app.js'), 1000, 1000);
    expect(await sum('app.js')).not.toBe(c0);
  });

  test('the same content under a different name hashes the same as a selection (the COPY op names the path)', async () => {
    await tree(ctx, { 'copy/b.txt': 'two', 'copy/sub/c.txt': 'three' });
    // modes and owners equal as created by the same process
    expect(await sum('copy')).toBe(await sum('layer2'));
  });

  test('a symlinked source is followed inside the context', async () => {
    await symlink('layer3', join(ctx, 'link3'));
    await symlink('/layer2/b.txt', join(ctx, 'abs-link'));
    expect(await sum('link3')).toBe(await sum('layer3'));
    expect(await sum('abs-link')).toBe(await sum('layer2/b.txt'));
    expect(await sum('link3', { followLinks: false })).not.toBe(await sum('layer3'));
    // A link to a host path resolves inside the context, where it does not exist.
    await symlink('/etc/passwd', join(ctx, 'escape'));
    await expect(sum('escape')).rejects.toMatchObject({ code: 'CONTEXT_PATH_NOT_FOUND' });
    // Intermediate links are resolved too, and .. stops at the root.
    expect(await sum('link3/d.txt')).toBe(await sum('layer3/d.txt'));
    expect(await sum('../../layer3')).toBe(await sum('layer3'));
  });

  test('wildcards select every match with its tree', async () => {
    const w0 = await sum('*.txt');
    await writeFile(join(ctx, 'notes.md'), 'changed');
    expect(await sum('*.txt')).toBe(w0);
    await writeFile(join(ctx, 'new.txt'), 'new');
    const w1 = await sum('*.txt');
    expect(w1).not.toBe(w0);
    await writeFile(join(ctx, 'layer2/sub/c.txt'), 'changed');
    const l0 = await sum('layer*');
    await writeFile(join(ctx, 'layer3/d.txt'), 'changed');
    expect(await sum('layer*')).not.toBe(l0);
    const sub0 = await sum('layer?/sub');
    await writeFile(join(ctx, 'layer1/a.txt'), 'changed');
    expect(await sum('layer?/sub')).toBe(sub0);
    await writeFile(join(ctx, 'layer2/sub/c.txt'), 'changed again');
    expect(await sum('layer?/sub')).not.toBe(sub0);
  });

  test('a missing source is one clear error with its location; an empty wildcard may be allowed', async () => {
    const location = { file: 'Dockerfile', line: 3, column: 1 };
    await expect(sum('nope.txt', { location })).rejects.toMatchObject({
      code: 'CONTEXT_PATH_NOT_FOUND',
      location,
      message: 'failed to compute cache key: "/nope.txt": not found',
    });
    await expect(sum('*.nothing', { location })).rejects.toMatchObject({ code: 'CONTEXT_PATH_NOT_FOUND', location });
    expect(await sum('*.nothing', { allowEmptyWildcard: true })).toMatch(/^xxh64:/);
  });

  test('.dockerignore excludes: excluded files do not count and cannot be selected', async () => {
    const excludes = ['**/*.md', 'layer2/sub'];
    const c0 = await sum('.', { excludes });
    const l2 = await sum('layer2', { excludes });
    expect(l2).not.toBe(await sum('layer2'));
    await writeFile(join(ctx, 'notes.md'), 'changed');
    await writeFile(join(ctx, 'layer2/sub/c.txt'), 'changed');
    expect(await sum('.', { excludes })).toBe(c0);
    expect(await sum('layer2', { excludes })).toBe(l2);
    await expect(sum('notes.md', { excludes })).rejects.toMatchObject({ code: 'CONTEXT_PATH_NOT_FOUND' });
    await writeFile(join(ctx, 'app.js'), 'changed');
    expect(await sum('.', { excludes })).not.toBe(c0);
  });

  test('hashContext covers exactly the include paths and honours excludes', async () => {
    const r0 = await h.hashContext({ root: ctx, include: ['layer1', 'app.js'], excludes: ['*.md'] });
    expect(r0.entries).toBe(3); // layer1, layer1/a.txt, app.js
    expect(r0.bytes).toBe('one'.length + 'console.log(1)'.length);
    await writeFile(join(ctx, 'layer3/d.txt'), 'changed');
    expect((await h.hashContext({ root: ctx, include: ['layer1', 'app.js'], excludes: ['*.md'] })).digest).toBe(r0.digest);
    await writeFile(join(ctx, 'layer1/a.txt'), 'changed');
    expect((await h.hashContext({ root: ctx, include: ['layer1', 'app.js'] })).digest).not.toBe(r0.digest);
    const all = await hashContext({ root: ctx });
    expect(all.entries).toBe(11);
    // A followed path that is a symlink brings its target along (BuildKit's followpaths).
    await symlink('layer3', join(ctx, 'link3'));
    const viaLink = await h.hashContext({ root: ctx, include: ['link3'] });
    expect(viaLink.entries).toBe(3); // link3, layer3, layer3/d.txt
    await writeFile(join(ctx, 'layer3/d.txt'), 'changed again');
    expect((await h.hashContext({ root: ctx, include: ['link3'] })).digest).not.toBe(viaLink.digest);
  });

  test('a literal file\'s checksum makes no thread-pool trip, and equals the walk\'s (the step between a change\'s context sync and its COPY)', async () => {
    const { result, trips } = await countPoolTrips(() => h.checksumPathState(ctx, 'layer2/sub/c.txt'));
    expect(trips).toEqual([]);
    // An ignore file with an exception makes it walk: the same state.
    const walked = await h.checksumPathState(ctx, 'layer2/sub/c.txt', { excludes: ['nothing', '!nothing/x'] });
    expect(walked).toEqual(result);
    expect(result).toMatchObject({ kind: 'literal', resolved: 'layer2/sub/c.txt', direct: true });
    await expect(h.checksumPathState(ctx, 'layer2/sub/c.txt', { excludes: ['layer2'] })).rejects.toMatchObject({ code: 'CONTEXT_PATH_NOT_FOUND' });
  });

  test('an aborted signal stops hashing with CANCELLED', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(h.hashContext({ root: ctx, signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('context hashing with the stat cache', () => {
  let t: TestRoot;
  let s: CacheStorage;
  let ctx: string;
  let h: ContextHasher;
  beforeEach(async () => {
    t = await makeTestRoot();
    s = await t.open();
    ctx = join(t.dir, 'ctx');
    await tree(ctx, { 'a.txt': 'alpha', 'b.txt': 'beta', 'dir/c.txt': 'gamma' });
    h = await ContextHasher.create();
  });
  afterEach(async () => t.cleanup());

  test('unchanged files are not read again; a changed one is', async () => {
    const c = countingReader();
    const opts = { statCache: s.statCache, readFile: c.reader, racyWindowMs: 0 };
    const first = await h.hashContext({ root: ctx, ...opts });
    expect(first.filesRead).toBe(3);
    expect(c.reads).toHaveLength(3);
    const second = await h.hashContext({ root: ctx, ...opts });
    expect(second.digest).toBe(first.digest);
    expect(second.filesRead).toBe(0);
    expect(c.reads).toHaveLength(3);
    await writeFile(join(ctx, 'b.txt'), 'BETA');
    const third = await h.hashContext({ root: ctx, ...opts });
    expect(third.filesRead).toBe(1);
    expect(c.reads.slice(3)).toEqual([join(ctx, 'b.txt')]);
    expect(third.digest).not.toBe(first.digest);
    // checksumPath shares the same cache.
    await h.checksumPath(ctx, 'dir', opts);
    expect(c.reads).toHaveLength(4);
  });

  test('the cache is trusted while size, mtime, ctime and inode are unchanged', async () => {
    // Proof without counting: plant a wrong digest under the file's current stat and watch it used.
    const honest = await h.checksumPath(ctx, 'a.txt');
    const st = await stat(join(ctx, 'a.txt'));
    s.statCache.putMany(ctx, [{ path: 'a.txt', size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, digest: 'xxh64:0000000000000000' }]);
    expect(await h.checksumPath(ctx, 'a.txt', { statCache: s.statCache })).not.toBe(honest);
    // Any stat change (here: ctime, through chmod to the same mode) makes it read the file again.
    await chmod(join(ctx, 'a.txt'), st.mode & 0o7777);
    expect(await h.checksumPath(ctx, 'a.txt', { statCache: s.statCache })).toBe(honest);
  });

  test('a large selection loads the root\'s rows at once, and that copy follows later writes', async () => {
    // 300 files: above the preload threshold, so the second run answers from the loaded rows.
    const many: Record<string, string> = {};
    for (let i = 0; i < 300; i++) many[`many/f${String(i).padStart(3, '0')}`] = `file ${i}`;
    await tree(ctx, many);
    const c = countingReader();
    const opts = { statCache: s.statCache, readFile: c.reader, racyWindowMs: 0 };
    const first = await h.hashContext({ root: ctx, ...opts });
    expect(first.filesRead).toBe(303);
    const fresh = await t.open();
    try {
      // A second store on the same DB (another process): its preload sees what the first wrote.
      const second = await h.hashContext({ root: ctx, ...opts, statCache: fresh.statCache });
      expect(second).toEqual({ ...first, filesRead: 0 });
      await writeFile(join(ctx, 'many/f007'), 'changed');
      const third = await h.hashContext({ root: ctx, ...opts, statCache: fresh.statCache });
      expect(third.filesRead).toBe(1);
      expect(third.digest).not.toBe(first.digest);
      // The changed file's new digest went to the loaded copy and to the DB.
      const fourth = await h.hashContext({ root: ctx, ...opts, statCache: fresh.statCache });
      expect(fourth).toEqual({ ...third, filesRead: 0 });
      const other = await t.open();
      try {
        expect(other.statCache.get(ctx, 'many/f007')?.digest).toBe(fresh.statCache.get(ctx, 'many/f007')?.digest);
        expect(other.statCache.get(ctx, 'many/f007')?.size).toBe('changed'.length);
      } finally {
        other.close();
      }
      // The first store's loaded copy is older; a stale row only costs a read, never a wrong digest.
      expect((await h.hashContext({ root: ctx, ...opts })).digest).toBe(third.digest);
    } finally {
      fresh.close();
    }
  });

  test('files changed within the racy window are hashed but not remembered', async () => {
    const c = countingReader();
    const opts = { statCache: s.statCache, readFile: c.reader };
    await h.hashContext({ root: ctx, ...opts });
    await h.hashContext({ root: ctx, ...opts });
    // Just written: default 2 s window, so every run reads them.
    expect(c.reads).toHaveLength(6);
    expect(s.statCache.get(ctx, 'a.txt')).toBeUndefined();
  });
});
