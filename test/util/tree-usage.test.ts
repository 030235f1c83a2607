/**
 * treeUsage (a snapshot's size after every build step, `du -x` of the data root): small directories
 * are listed without a thread-pool trip, a big one still through the pool, and both count as du does.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeUsage } from '../../src/util/tree-usage.js';
import { countPoolTrips } from '../helpers/pool-trips.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tree-usage-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** du's own answer: allocated bytes (-B1), one file system, hard links once. */
function du(path: string): number {
  return Number(execFileSync('du', ['-s', '-x', '-B1', path], { encoding: 'utf8' }).split('\t')[0]);
}

test('a layer of a few small directories is walked without a thread-pool trip, as du counts it', async () => {
  // What `RUN npm-install` of examples/split leaves: a handful of directories and files.
  for (const m of ['express', 'lodash', 'debug']) {
    mkdirSync(join(dir, 'code', 'node_modules', m), { recursive: true });
    writeFileSync(join(dir, 'code', 'node_modules', m, 'index.js'), 'x'.repeat(5000));
  }
  mkdirSync(join(dir, 'etc'));
  const { result, trips } = await countPoolTrips(() => treeUsage(dir));
  expect(trips).toEqual([]);
  expect(result).toEqual({ bytes: du(dir), inodes: 10 });
});

test('a directory too big to list synchronously is listed through the pool, and counted whole', async () => {
  const big = join(dir, 'big');
  mkdirSync(big);
  for (let i = 0; i < 2000; i++) writeFileSync(join(big, `file-with-a-longer-name-to-fill-the-directory-${i}`), '');
  // ext4 and tmpfs both grow a directory's st_size with its entries; the test needs it over 64 KiB.
  expect(statSync(big).size).toBeGreaterThan(64 * 1024);
  const { result, trips } = await countPoolTrips(() => treeUsage(dir));
  expect(trips).toEqual(['FSREQPROMISE']);
  expect(result).toEqual({ bytes: du(dir), inodes: 2002 });
});

test('a missing root uses nothing; a file root is itself', async () => {
  expect(await treeUsage(join(dir, 'gone'))).toEqual({ bytes: 0, inodes: 0 });
  writeFileSync(join(dir, 'f'), 'y'.repeat(10000));
  expect(await treeUsage(join(dir, 'f'))).toEqual({ bytes: du(join(dir, 'f')), inodes: 1 });
});
