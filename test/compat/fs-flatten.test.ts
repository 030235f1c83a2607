/** The layer flattener on hand-made layer tars and archives: whiteouts, opaque dirs, hardlinks, formats. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flattenImageArchive, flattenLayers, FlattenError, normalizeTarPath, readImageArchive } from '../helpers/fs-flatten.js';
import type { FlatFs } from '../helpers/fs-flatten.js';
import { configFor, makeTar, sha256hex, writeDockerSave, writeOciLayout } from './tar-fixtures.js';

const paths = (fs: FlatFs): string[] => [...fs.keys()];

describe('flattenLayers', () => {
  test('records type, mode, owner, size, content hash and link target', async () => {
    const layer = await makeTar([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/tool', mode: 0o4755, uid: 0, gid: 0, content: 'ELF' },
      { name: 'home/app/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
      { name: 'home/app/notes', mode: 0o600, uid: 1000, gid: 100, content: 'hello' },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
      { name: 'bin/sh', type: 'symlink', linkname: 'tool' },
      { name: 'run/pipe', type: 'fifo', mode: 0o600 },
    ]);
    const { fs } = await flattenLayers([layer]);
    expect(fs.get('/bin/tool')).toEqual({ type: 'file', mode: 0o4755, uid: 0, gid: 0, size: 3, sha256: sha256hex('ELF'), mtime: 1000 });
    expect(fs.get('/home/app')).toMatchObject({ type: 'dir', mode: 0o700, uid: 1000, gid: 1000, size: 0 });
    expect(fs.get('/home/app/notes')).toMatchObject({ mode: 0o600, uid: 1000, gid: 100, size: 5, sha256: sha256hex('hello') });
    expect(fs.get('/tmp')?.mode).toBe(0o1777);
    expect(fs.get('/bin/sh')).toMatchObject({ type: 'symlink', linkname: 'tool', size: 0 });
    expect(fs.get('/run/pipe')?.type).toBe('fifo');
    // `run/` had no entry of its own: it appears as a root-owned 0755 directory.
    expect(fs.get('/run')).toMatchObject({ type: 'dir', mode: 0o755, uid: 0 });
    expect(paths(fs)).toEqual(['/bin', '/bin/sh', '/bin/tool', '/home', '/home/app', '/home/app/notes', '/run', '/run/pipe', '/tmp']);
  });

  test('a whiteout removes a file, or a directory with everything below it, from lower layers', async () => {
    const l0 = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/group', content: 'g' },
      { name: 'etc/passwd', content: 'p' },
      { name: 'tree/', type: 'directory' },
      { name: 'tree/a/', type: 'directory' },
      { name: 'tree/a/b', content: 'b' },
    ]);
    const l1 = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.group', mode: 0o600 },
      { name: '.wh.tree' },
      { name: '.wh.never-existed' },
    ]);
    const { fs, removedByLayer, entriesByLayer } = await flattenLayers([l0, l1, await makeTar([])]);
    expect(paths(fs)).toEqual(['/etc', '/etc/passwd']);
    expect(entriesByLayer).toEqual([6, 4, 0]);
    expect(removedByLayer).toEqual([[], ['/etc/group', '/tree', '/tree/a', '/tree/a/b'], []]);
  });

  test('an opaque directory hides lower children but keeps its own layer\'s, wherever the marker sits', async () => {
    const l0 = await makeTar([
      { name: 'd/', type: 'directory' },
      { name: 'd/old', content: 'o' },
      { name: 'd/sub/', type: 'directory' },
      { name: 'd/sub/deep', content: 'x' },
      { name: 'other', content: 'keep' },
    ]);
    const markerLast = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750 },
      { name: 'd/new', content: 'n' },
      { name: 'd/.wh..wh..opq' },
    ]);
    const markerFirst = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750 },
      { name: 'd/.wh..wh..opq' },
      { name: 'd/new', content: 'n' },
    ]);
    for (const l1 of [markerLast, markerFirst]) {
      const { fs, removedByLayer } = await flattenLayers([l0, l1]);
      expect(paths(fs)).toEqual(['/d', '/d/new', '/other']);
      expect(fs.get('/d')?.mode).toBe(0o750);
      expect(removedByLayer[1]).toEqual(['/d/old', '/d/sub', '/d/sub/deep']);
    }
  });

  test('a file replaces a directory tree and a directory replaces a file, without whiteouts', async () => {
    const l0 = await makeTar([
      { name: 'p', content: 'file' },
      { name: 'q/', type: 'directory' },
      { name: 'q/child', content: 'c' },
    ]);
    const l1 = await makeTar([
      { name: 'p/', type: 'directory' },
      { name: 'p/inside', content: 'i' },
      { name: 'q', content: 'now a file' },
    ]);
    const { fs } = await flattenLayers([l0, l1]);
    expect(paths(fs)).toEqual(['/p', '/p/inside', '/q']);
    expect(fs.get('/p')?.type).toBe('dir');
    expect(fs.get('/q')).toMatchObject({ type: 'file', sha256: sha256hex('now a file') });
  });

  test('a directory entry over a directory updates its metadata and keeps its children', async () => {
    const l0 = await makeTar([{ name: 'srv/', type: 'directory' }, { name: 'srv/data', content: 'd' }]);
    const l1 = await makeTar([{ name: 'srv/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000, mtime: 5000 }]);
    const { fs } = await flattenLayers([l0, l1]);
    expect(fs.get('/srv')).toMatchObject({ type: 'dir', mode: 0o700, uid: 1000, gid: 1000, mtime: 5000 });
    expect(fs.has('/srv/data')).toBe(true);
  });

  test('hardlinks share an inode: group lists, links into lower layers, metadata, shrinking groups', async () => {
    const l0 = await makeTar([
      { name: 'a', content: 'shared', mode: 0o644 },
      { name: 'b', type: 'link', linkname: 'a' },
      { name: 'lonely', content: 'x' },
    ]);
    const l1 = await makeTar([
      // A link to a lower layer's file; its header's mode lands on the shared inode.
      { name: 'dir/c', type: 'link', linkname: '/a', mode: 0o600 },
      { name: '.wh.b' },
    ]);
    const one = await flattenLayers([l0]);
    expect(one.fs.get('/a')?.hardlinks).toEqual(['/a', '/b']);
    expect(one.fs.get('/b')).toMatchObject({ type: 'file', size: 6, sha256: sha256hex('shared'), hardlinks: ['/a', '/b'] });
    expect(one.fs.get('/lonely')?.hardlinks).toBeUndefined();
    const two = await flattenLayers([l0, l1]);
    expect(two.fs.has('/b')).toBe(false);
    expect(two.fs.get('/a')).toMatchObject({ mode: 0o600, hardlinks: ['/a', '/dir/c'] });
    expect(two.fs.get('/dir/c')).toMatchObject({ mode: 0o600, sha256: sha256hex('shared'), hardlinks: ['/a', '/dir/c'] });
  });

  test('replacing one name of a hardlinked file leaves the other with the old content', async () => {
    const l0 = await makeTar([{ name: 'a', content: 'old' }, { name: 'b', type: 'link', linkname: 'a' }]);
    const l1 = await makeTar([{ name: 'a', content: 'new!' }]);
    const { fs } = await flattenLayers([l0, l1]);
    expect(fs.get('/a')).toMatchObject({ sha256: sha256hex('new!'), size: 4 });
    expect(fs.get('/a')?.hardlinks).toBeUndefined();
    expect(fs.get('/b')).toMatchObject({ sha256: sha256hex('old'), size: 3 });
    expect(fs.get('/b')?.hardlinks).toBeUndefined();
  });

  test('layers that only move directory mtimes, or whiteout nothing, count no changes', async () => {
    const l0 = await makeTar([{ name: 'etc/', type: 'directory', mtime: 1 }, { name: 'etc/passwd', content: 'p' }]);
    const mtimeOnly = await makeTar([{ name: 'etc/', type: 'directory', mtime: 99999 }, { name: '.wh.not-there' }]);
    const chmod = await makeTar([{ name: 'etc/', type: 'directory', mode: 0o700 }]);
    const newDir = await makeTar([{ name: 'srv/', type: 'directory' }]);
    const whiteout = await makeTar([{ name: 'etc/.wh.passwd' }]);
    const r = await flattenLayers([l0, mtimeOnly, chmod, newDir, whiteout, await makeTar([])]);
    expect(r.entriesByLayer).toEqual([2, 2, 1, 1, 1, 0]);
    expect(r.changesByLayer).toEqual([2, 0, 1, 1, 1, 0]);
  });

  test('PAX xattrs are recorded by name with a hash of the value', async () => {
    const layer = await makeTar([{ name: 'ping', content: 'p', pax: { 'SCHILY.xattr.user.note': 'hello' } }]);
    const { fs } = await flattenLayers([layer]);
    expect(fs.get('/ping')?.xattrs).toEqual({ 'user.note': sha256hex('hello') });
  });

  test('malformed layers fail with a FlattenError naming the layer and path', async () => {
    const escape = await makeTar([{ name: '../evil', content: 'x' }]);
    await expect(flattenLayers([escape], { name: 'img' })).rejects.toThrow(/img layer 0: entry "\.\.\/evil" escapes the root/);
    const dangling = await makeTar([{ name: 'h', type: 'link', linkname: 'nowhere' }]);
    await expect(flattenLayers([dangling])).rejects.toThrow(/hardlink \/h points to missing \/nowhere/);
    const underFile = await makeTar([{ name: 'f', content: 'x' }, { name: 'f/g', content: 'y' }]);
    await expect(flattenLayers([underFile])).rejects.toThrow(FlattenError);
    await expect(flattenLayers([Buffer.from('definitely not a tar archive, just text')])).rejects.toThrow(/not a readable tar/);
  });

  test('a cancelled flatten stops with the signal\'s reason', async () => {
    const layer = await makeTar([{ name: 'a', content: 'x' }]);
    const ac = new AbortController();
    ac.abort(new Error('stop now'));
    await expect(flattenLayers([layer], { signal: ac.signal })).rejects.toThrow('stop now');
  });

  test('normalizeTarPath', () => {
    expect(normalizeTarPath('./a/b/', 'x')).toBe('/a/b');
    expect(normalizeTarPath('a//b', 'x')).toBe('/a/b');
    expect(normalizeTarPath('/a', 'x')).toBe('/a');
    expect(normalizeTarPath('./', 'x')).toBe('/');
  });
});

describe('readImageArchive', () => {
  let dir: string;
  let layers: Buffer[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-flatten-'));
    layers = [
      await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/os', content: 'busybox' }, { name: 'gone', content: 'g' }]),
      await makeTar([{ name: '.wh.gone' }, { name: 'added', content: 'a' }]),
    ];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('docker-save and OCI layouts (plain and nested in an index) flatten to the same filesystem', async () => {
    const save = join(dir, 'save.tar');
    const oci = join(dir, 'oci.tar');
    const nested = join(dir, 'nested.tar');
    await writeDockerSave(save, layers);
    await writeOciLayout(oci, layers);
    await writeOciLayout(nested, layers, { nested: true });
    const a = await flattenImageArchive(save);
    const b = await flattenImageArchive(oci);
    const c = await flattenImageArchive(nested);
    expect(a.archive.format).toBe('docker-save');
    expect(b.archive.format).toBe('oci-layout');
    expect(paths(a.fs)).toEqual(['/added', '/etc', '/etc/os']);
    expect(b.fs).toEqual(a.fs);
    expect(c.fs).toEqual(a.fs);
    expect(b.archive.config.rootfs.diff_ids).toEqual(a.archive.config.rootfs.diff_ids);
  });

  test('a docker-save archive may store a repeated layer once and symlink the repeat', async () => {
    const empty = await makeTar([]);
    const file = join(dir, 'repeated.tar');
    await writeDockerSave(file, [layers[0] as Buffer, empty, empty]);
    const r = await flattenImageArchive(file);
    expect(r.entriesByLayer).toEqual([3, 0, 0]);
    expect(r.archive.layers[2]).toEqual(empty);
  });

  test('diff_ids must match the layers, and blobs their digests', async () => {
    const bad = join(dir, 'bad-diffid.tar');
    await writeDockerSave(bad, layers, configFor([layers[1] as Buffer, layers[0] as Buffer]));
    await expect(readImageArchive(bad)).rejects.toThrow(/layer 0 does not match diff_id/);
    const short = join(dir, 'short.tar');
    await writeDockerSave(short, layers, configFor([layers[0] as Buffer]));
    await expect(readImageArchive(short)).rejects.toThrow(/1 diff_ids for 2 layers/);
    const corrupt = join(dir, 'corrupt.tar');
    await writeOciLayout(corrupt, layers, { corrupt: 'layer' });
    await expect(readImageArchive(corrupt)).rejects.toThrow(/does not match its digest/);
  });

  test('an archive that is neither format is rejected by name', async () => {
    const other = join(dir, 'other.tar');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(other, await makeTar([{ name: 'README', content: 'hi' }]));
    await expect(readImageArchive(other)).rejects.toThrow(/neither a docker-save archive .* nor an OCI layout/);
  });
});
