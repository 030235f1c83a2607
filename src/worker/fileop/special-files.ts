/**
 * Fifos and device nodes. Node has no mknod/mkfifo binding: mknod(2) of the native module
 * (src/util/native-sys.ts), else the coreutils binaries (a process per entry).
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { nativeSys } from '../../util/native-sys.js';
import { fileOpIoError } from './errors.js';

export type SpecialKind = 'fifo' | 'char' | 'block';

export interface MakeSpecialOptions {
  readonly kind: SpecialKind;
  /** Permission bits. */
  readonly mode: number;
  /** Device numbers (char/block only). */
  readonly major?: number;
  readonly minor?: number;
  readonly signal?: AbortSignal | undefined;
}

/** Creates a fifo or device node at `path` (which must not exist). */
export async function makeSpecialFile(path: string, opts: MakeSpecialOptions): Promise<void> {
  const sys = nativeSys();
  if (sys !== undefined) {
    const type = opts.kind === 'fifo' ? 0o010000 : opts.kind === 'char' ? 0o020000 : 0o060000;
    try {
      sys.mknod(path, type, opts.major ?? 0, opts.minor ?? 0);
      // mknod(2) applies the umask; mknod -m does not.
      await chmod(path, opts.mode & 0o7777);
    } catch (e) {
      throw fileOpIoError(`${opts.kind === 'fifo' ? 'mkfifo' : 'mknod'} ${path}`, e);
    }
    return;
  }
  const mode = (opts.mode & 0o7777).toString(8);
  const [bin, args] =
    opts.kind === 'fifo'
      ? ['mkfifo', ['-m', mode, '--', path]]
      : ['mknod', ['-m', mode, '--', path, opts.kind === 'char' ? 'c' : 'b', String(opts.major ?? 0), String(opts.minor ?? 0)]];
  await new Promise<void>((resolve, reject) => {
    execFile(bin, args, { signal: opts.signal }, (err, _stdout, stderr) => {
      if (err) reject(fileOpIoError(`${bin} ${path}`, new Error(String(stderr).trim() || err.message)));
      else resolve();
    });
  });
}

/** Major and minor numbers of a Linux dev_t (glibc's encoding). */
export function splitDevice(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | (hi & 0xfffff000);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfffff00);
  return { major: major >>> 0, minor: minor >>> 0 };
}
