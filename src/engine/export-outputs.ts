/**
 * Output files of one export (`-o type=oci|docker|tar,dest=FILE`). Each is written under a
 * temporary name beside `dest` and renamed over it only when the export succeeded, so a failed or
 * cancelled export (a full disk, Ctrl-C) never leaves a half-written archive that looks whole; and
 * a write error becomes one message naming the file and the export step, not Node's bare
 * "ENOSPC: no space left on device, write".
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { TsbuildError, UserInputError } from '../util/errors.js';
import { errnoCode } from '../worker/exec/root-path.js';

/** Errors of the disk rather than of the build: the message names the file being written. */
const DISK_ERRORS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
};

export class ExportOutputs {
  readonly #pending: Array<{ readonly tmp: string; readonly dest: string; readonly stream: Writable }> = [];

  constructor(private readonly stdout: Writable | undefined) {}

  /** A stream for `dest` (the client's stdout for `-`), final only after `commit()`. */
  async open(dest: string): Promise<Writable> {
    if (dest === '-') {
      if (!this.stdout) throw new UserInputError('INVALID_OUTPUT', 'dest=- needs a standard output');
      return this.stdout;
    }
    const path = resolve(dest);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${basename(path)}.tsbuild-${randomBytes(4).toString('hex')}`);
    const stream = createWriteStream(tmp, { flags: 'wx' });
    this.#pending.push({ tmp, dest: path, stream });
    return stream;
  }

  /** Moves every output to its name (after the exporter finished writing). */
  async commit(): Promise<void> {
    for (const p of this.#pending.splice(0)) await rename(p.tmp, p.dest);
  }

  /** Removes what a failed export wrote. Never throws. */
  async discard(): Promise<void> {
    for (const p of this.#pending.splice(0)) {
      p.stream.destroy();
      await rm(p.tmp, { force: true }).catch(() => undefined);
    }
  }

  /** The files this export writes, for error messages. */
  get paths(): readonly string[] {
    return this.#pending.map((p) => p.dest);
  }
}

/**
 * `e` as one line naming the step and, for a disk error, the file (`where`: the path the error
 * names, else the export's output files, else the data root the export writes blobs to).
 */
export function exportError(e: unknown, step: string, where: readonly string[]): unknown {
  const code = errnoCode(e);
  const what = code !== undefined ? DISK_ERRORS[code] : undefined;
  if (what === undefined) return e;
  const path = typeof (e as { path?: unknown }).path === 'string' ? (e as { path: string }).path : undefined;
  const dest = typeof (e as { dest?: unknown }).dest === 'string' ? (e as { dest: string }).dest : undefined;
  const file = dest ?? path ?? where.join(', ');
  return new TsbuildError(`EXPORT_${code}`, `${step}: ${what} while writing ${file}`, { cause: e });
}
