/**
 * The file-system clock (src/cache/fs-clock.ts): a reading is the mtime of a byte written this
 * instant, ordered with the stamps of files made before and after it; after the first reading in a
 * directory it makes no directory entry (one open, unlinked file per directory, not a new file per
 * reading: issue 10), and it keeps a bounded number of files open however many directories it reads.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fsClockTick, fsNow } from '../../src/cache/fs-clock.js';

describe('fsNow / fsClockTick', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsb-fs-clock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('after the first reading, readings and ticks make no directory entry, and none is left', async () => {
    const clockDir = join(dir, 'tmp');
    await fsNow(clockDir);
    const events: string[] = [];
    // 'rename': an entry made or removed (writes to the clock file itself show as 'change').
    const watcher = watch(clockDir, (type, name) => {
      if (type === 'rename') events.push(String(name));
    });
    try {
      for (let i = 0; i < 20; i++) await fsNow(clockDir);
      await fsClockTick(clockDir);
      await sleep(200);
    } finally {
      watcher.close();
    }
    // A file per reading (created, then unlinked) showed as two events each.
    expect(events).toEqual([]);
    expect(readdirSync(clockDir)).toEqual([]);
  });

  test('a reading is ordered with the stamps of files written before and after it', async () => {
    const clockDir = join(dir, 'tmp');
    const before = join(dir, 'before');
    writeFileSync(before, 'x');
    await fsClockTick(clockDir);
    const t0 = await fsNow(clockDir);
    expect(t0).toBeGreaterThan(statSync(before).mtimeMs);
    const after = join(dir, 'after');
    writeFileSync(after, 'y');
    expect(statSync(after).mtimeMs).toBeGreaterThanOrEqual(t0);
    await fsClockTick(clockDir);
    const t1 = await fsNow(clockDir);
    expect(t1).toBeGreaterThan(statSync(after).mtimeMs);
    expect(t1).toBeGreaterThanOrEqual(t0);
    // The clock tracks real time (the same epoch as Date.now, within the kernel's coarse tick).
    expect(Math.abs(t1 - Date.now())).toBeLessThan(1000);
  });

  test('many directories keep a bounded number of files open', async () => {
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const open = fds();
    for (let i = 0; i < 30; i++) {
      const d = join(dir, `root-${i}`);
      const t = await fsNow(d);
      expect(t).toBeGreaterThan(0);
      expect(readdirSync(d)).toEqual([]);
    }
    expect(fds()).toBeLessThanOrEqual(open + 8);
  });
});
