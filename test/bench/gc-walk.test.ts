/**
 * bench/cache/gc-walk.ts on a small root: it fills a real data root (overlay2 snapshots held by
 * records, their layer blobs), walks it as a fresh process would, finds no garbage (everything is
 * held), prints one line per size, and leaves nothing behind.
 */
import { expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../bench/cache/gc-walk.js';
import { describeIf, isRoot } from '../helpers/skip.js';

describeIf(isRoot, 'the overlay2 snapshotter keeps Docker-compatible ownership; it needs root', 'bench/cache/gc-walk', () => {
  test('walks a root of held snapshots, finds no garbage and removes the root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsbuild-gc-walk-test-'));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      out.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await main(['--snapshots', '60,120', '--runs', '2', '--dir', dir], new AbortController().signal);
    } finally {
      process.stdout.write = write;
      const left = await readdir(dir);
      await rm(dir, { recursive: true, force: true });
      expect(left).toEqual([]);
    }
    const lines = out.join('').trim().split('\n');
    expect(lines[0]).toMatch(/^tsbuild bench\/cache\/gc-walk: 2 walks per size/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^\s+60 snapshots\s+first\s+[\d.]+ ms\s+then\s+[\d.]+ ms wall,\s+[\d.]+ ms CPU/),
      expect.stringMatching(/^\s+120 snapshots\s+first/),
    ]);
  }, 120_000);
});
