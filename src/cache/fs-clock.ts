/**
 * The file system's "now": the mtime of a file written this instant. Garbage collection compares
 * the times of blobs and snapshots with the start of running operations; taking both from the
 * same (coarse, kernel) clock makes "created after the operation began" exact, where Date.now()
 * can be a few milliseconds ahead of the timestamps the kernel gives new files.
 *
 * The six calls are synchronous: each is a metadata syscall of a few microseconds on the data
 * root's own file system, where six trips through the thread pool cost the daemon ~1 ms of CPU per
 * build (every build begins a lease and ends with a reachability walk, both reading this clock).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentProcess, ownerPrefix } from './process-identity.js';

/** Milliseconds since the epoch, as the file system under `dir` stamps a new file. */
export async function fsNow(dir: string): Promise<number> {
  return fsNowSync(dir);
}

function fsNowSync(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${ownerPrefix(currentProcess())}clock-${randomBytes(4).toString('hex')}`);
  const fd = openSync(path, 'wx', 0o600);
  try {
    // A write updates mtime to the current (coarse) kernel time even on file systems that
    // stamp creation lazily.
    writeSync(fd, 't');
    return fstatSync(fd).mtimeMs;
  } finally {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // Left for the orphan cleanup (the name carries this process's prefix).
    }
  }
}

/**
 * Waits until the file-system clock has moved past its value at the call (one coarse tick, a few
 * milliseconds), so that everything written before the call is stamped strictly earlier than
 * anything read from fsNow() afterwards. A collection that follows an operation needs it: a blob
 * the operation wrote in the same tick as the walk's start would count as young and be left behind.
 */
export async function fsClockTick(dir: string, signal?: AbortSignal): Promise<void> {
  const start = fsNowSync(dir);
  while (fsNowSync(dir) <= start) {
    signal?.throwIfAborted();
    await sleep(1);
  }
}
