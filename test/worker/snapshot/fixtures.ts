/** Shared helpers for snapshotter tests: a fresh data root per test and leak checks. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveBinary, isRoot } from '../../helpers/skip.js';

/** Overlay mounts need root and mount(8). */
export const canMount = isRoot && haveBinary('mount');
export const whyNoMount = 'needs root and mount(8) for overlay mounts';

export async function makeTempDir(prefix = 'tsbuild-snap-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Mount points (from /proc/self/mountinfo) at or below `dir`. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** Removes a test's temp dir; fails the test if anything is still mounted below it. */
export async function removeTempDir(dir: string): Promise<void> {
  const left = await mountsUnder(dir);
  // Undo leaks before failing, so one broken test does not poison the machine for the others.
  for (const mp of [...left].reverse()) execFileSync('umount', ['-l', mp]);
  await rm(dir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`mounts left behind under ${dir}: ${left.join(', ')}`);
}
