/**
 * The small files beside a snapshot that every layer tar starts by reading (which layer it links
 * files from, and that layer's tar index) are read without thread-pool trips: the export of a
 * build waits for its last layer's tar, and each trip waited behind the build's other I/O.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLinkedFrom, readTarIndex, TarIndexWriter, writeLinkedFrom } from '../../../src/worker/diff/tar-index.js';
import { countPoolTrips } from '../../helpers/pool-trips.js';

let dir: string;
const snapshots = { diffDir: (id: string): string => join(dir, id, 'diff') };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-tar-index-'));
  for (const id of ['a', 'b']) await mkdir(snapshots.diffDir(id), { recursive: true });
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

test('linked-from and the tar index are written and read without thread-pool trips', async () => {
  const none = await countPoolTrips(async () => [await readLinkedFrom(snapshots, 'b'), await readTarIndex(snapshots, 'a')]);
  expect(none.result).toEqual([undefined, undefined]);
  expect(none.trips).toEqual([]);

  const index = new TarIndexWriter();
  index.add('f', { dev: 1, ino: 7, size: 3, mtimeMs: 5, nlink: 1 }, 0, 1024);
  await index.write(snapshots, 'a', 'sha256:abc');
  const linked = await countPoolTrips(async () => {
    await writeLinkedFrom(snapshots, 'b', 'a');
    const from = await readLinkedFrom(snapshots, 'b');
    return { from, index: from === undefined ? undefined : await readTarIndex(snapshots, from) };
  });
  expect(linked.result.from).toBe('a');
  expect(linked.result.index?.blobDigest).toBe('sha256:abc');
  expect(linked.result.index?.byInode.get(7)).toEqual({ path: 'f', size: 3, mtimeMs: 5, offset: 0, length: 1024 });
  expect(linked.trips).toEqual([]);
});
