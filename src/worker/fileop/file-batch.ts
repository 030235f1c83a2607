/**
 * Small regular files copied in batches off the event loop (issue 14). A COPY of 1,000 small files
 * made ~13 system calls per file from JavaScript — copyFileSync (open, fstat, open, fchmod, ioctl,
 * copy_file_range, sendfile, close, close), llistxattr twice, lutimes — and spent ~85 ms of CPU,
 * most of it on the event loop. The native module's `copyFiles` (native/tsbuild_sys.c) copies a
 * batch on one thread-pool thread with 8 calls per file (open, open, sendfile or copy_file_range,
 * fchmod, flistxattr, futimens, close, close; the clone and copy_file_range attempts are made once
 * per batch), so the event loop only walks the tree while a batch per core is being copied.
 *
 * A file is queued with what the JavaScript path would give it: the owner and permission bits
 * (copiedAttrs), whether a chown is needed, and its times in the seconds Node's lutimes takes (the
 * module converts them as libuv does, so both paths write the same nanoseconds). A batch is
 * started when it is full or at the end of the event-loop turn that queued its first file, and only
 * while fewer than RUNNING_MAX are under way: until a thread is free it keeps taking files. Started
 * at once, a batch queued while the threads were busy held the one or two files the walk had added
 * since the last batch finished (CI saw 62 calls for 300 files under load).
 */
import { availableParallelism } from 'node:os';
import type { CopyFiles } from './types.js';

/** One file of a batch. */
export interface BatchFile {
  readonly src: string;
  readonly dst: string;
  readonly uid: number;
  readonly gid: number;
  /** Permission bits (07777) the copy gets. */
  readonly bits: number;
  /** Give the new file uid:gid (it is created owned by the process, or the directory's group). */
  readonly chown: boolean;
  /** Seconds, as for lutimes. */
  readonly atime: number;
  readonly mtime: number;
  /** Bytes to copy (the source's size when it was looked at). */
  readonly size: number;
}

/** Numbers per file in `meta`: uid, gid, bits, flags, atime, mtime, size (native/tsbuild_sys.c). */
const META = 7;
const FLAG_CHOWN = 1;
/** Files per batch: few enough that several batches of a directory run on the pool's threads at once. */
const BATCH_MAX = 64;
/**
 * Batches under way before the walk waits (room()): one per core, at most the pool's 4 threads.
 * Creating files in one directory serialises on its lock (more threads only spin on it: 4 on this
 * 2-core machine were no faster than 2), and a walk far ahead of the copies would hold every queued
 * file's Stats (at 100,000 files that costs more in GC than it saves).
 */
export const RUNNING_MAX = Math.min(4, availableParallelism());

interface Pending {
  readonly paths: string[];
  readonly meta: Float64Array;
  readonly done: Promise<readonly (Error | undefined)[] | null>;
  /** The event-loop turn that queued its first file has ended. */
  turnEnded: boolean;
  start(): void;
}

/** Node's lutimes takes a negative time to mean now; the batch does what it would. */
function seconds(t: number): number {
  return t < 0 ? Date.now() / 1000 : t;
}

export class FileBatch {
  /** Batches not started yet, in order; only the last may have room for more files. */
  private readonly queued: Pending[] = [];
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly copyFiles: CopyFiles) {}

  /** Copies one file; resolves once it is written with its metadata, rejects with its own error. */
  add(f: BatchFile): Promise<void> {
    let p = this.queued.at(-1);
    if (p === undefined || p.paths.length === BATCH_MAX) {
      p = this.open();
      this.queued.push(p);
    }
    const i = p.paths.length;
    p.paths.push(`${f.src}\0${f.dst}\0`);
    p.meta.set([f.uid, f.gid, f.bits, f.chown ? FLAG_CHOWN : 0, seconds(f.atime), seconds(f.mtime), f.size], i * META);
    if (i + 1 === BATCH_MAX) this.kick();
    return p.done.then((errors) => {
      const e = errors?.[i];
      if (e !== undefined) throw e;
    });
  }

  /**
   * Undefined while the walk may go on: a thread is free, or the batch waiting for one has room.
   * Else a promise settled once there is room again.
   */
  room(): Promise<void> | undefined {
    if (this.hasRoom()) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private hasRoom(): boolean {
    const q = this.queued;
    return this.running < RUNNING_MAX || q.length === 0 || (q.length === 1 && (q[0] as Pending).paths.length < BATCH_MAX);
  }

  private open(): Pending {
    let start!: () => void;
    const paths: string[] = [];
    const meta = new Float64Array(BATCH_MAX * META);
    const done = new Promise<readonly (Error | undefined)[] | null>((resolve, reject) => {
      start = () => {
        this.running++;
        const settle = (): void => {
          this.running--;
          this.kick();
          if (this.hasRoom()) for (const w of this.waiting.splice(0)) w();
        };
        this.copyFiles(paths.join(''), meta.subarray(0, paths.length * META))
          .then(resolve, reject)
          .finally(settle);
      };
    });
    const p: Pending = { paths, meta, done, turnEnded: false, start };
    setImmediate(() => {
      p.turnEnded = true;
      this.kick();
    });
    return p;
  }

  /** Starts the batches that are ready (full, or their turn has ended) while a thread is free. */
  private kick(): void {
    const q = this.queued;
    while (this.running < RUNNING_MAX) {
      const p = q[0];
      if (p === undefined || (p.paths.length < BATCH_MAX && !p.turnEnded)) return;
      q.shift();
      p.start();
    }
  }
}
