/**
 * The file system's "now": the mtime of a file written this instant. Garbage collection compares
 * the times of blobs and snapshots with the start of running operations; taking both from the
 * same (coarse, kernel) clock makes "created after the operation began" exact, where Date.now()
 * can be a few milliseconds ahead of the timestamps the kernel gives new files.
 *
 * Each reading writes one byte to a file of this process's own and reads its mtime back: two
 * synchronous metadata syscalls. The file is made (and unlinked at once: no directory entry is left
 * behind, even by a process that is killed) on the first reading in a directory; it used to be a
 * new file per reading, created, written, stat'ed, closed and unlinked (six syscalls, two of them
 * journalled directory changes), and every build reads the clock for its lease and again, in a
 * loop, for the collection after it (issue 10). A write stamps the file with the same coarse kernel
 * time whether it is linked or not.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentProcess, ownerPrefix } from './process-identity.js';

/** Clock files kept open at once (a test process opens many data roots); the oldest is closed past it. */
const MAX_CLOCKS = 8;

/** Directory → descriptor of its clock file (unlinked), in order of first use. */
const clocks = new Map<string, number>();

function clockFile(dir: string): number {
  const open = clocks.get(dir);
  if (open !== undefined) return open;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${ownerPrefix(currentProcess())}clock-${randomBytes(4).toString('hex')}`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    unlinkSync(path);
  } catch {
    // Left for the orphan cleanup (the name carries this process's prefix); the clock still works.
  }
  clocks.set(dir, fd);
  if (clocks.size > MAX_CLOCKS) {
    const [oldest, oldFd] = clocks.entries().next().value as [string, number];
    clocks.delete(oldest);
    closeSync(oldFd);
  }
  return fd;
}

/** Milliseconds since the epoch, as the file system under `dir` stamps a new file. */
export async function fsNow(dir: string): Promise<number> {
  return fsNowSync(dir);
}

function fsNowSync(dir: string): number {
  const fd = clockFile(dir);
  // A write updates mtime to the current (coarse) kernel time even on file systems that stamp
  // creation lazily; always at offset 0, so the file stays one byte long.
  writeSync(fd, 't', 0);
  return fstatSync(fd).mtimeMs;
}

/**
 * Waits until the file-system clock has moved past its value at the call (one coarse tick, a few
 * milliseconds, or at once where the kernel hands out fine-grained times), and returns that later
 * reading: everything written before the call is stamped strictly earlier than it, and than anything
 * read from fsNow() afterwards. A walk deciding what is young by its start needs it: a blob the
 * operation before it wrote in the same tick as the walk's start would count as young.
 */
export async function fsClockTick(dir: string, signal?: AbortSignal): Promise<number> {
  const start = fsNowSync(dir);
  for (;;) {
    const now = fsNowSync(dir);
    if (now > start) return now;
    signal?.throwIfAborted();
    await sleep(1);
  }
}
