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
import type { ExportContext, OutputSpec } from '../exporter/types.js';
import { startVertex, type ProgressWriter, type VertexReporter } from '../progress/index.js';
import { CancelledError, TsbuildError, UserInputError, throwIfAborted } from '../util/errors.js';
import { errnoCode } from '../worker/exec/root-path.js';
import type { ExportResult } from './types.js';

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

/** What `exportEach` needs besides the outputs: the exporters' services and the build's progress. */
export interface ExportEachOptions {
  readonly services: Pick<ExportContext, 'storage' | 'snapshotter' | 'differ' | 'tmpDir'> & { readonly root: string };
  readonly progress: ProgressWriter;
  /** The client's standard output, for `dest=-`. */
  readonly stdout: Writable | undefined;
  readonly signal: AbortSignal;
  /** Exports one output. */
  run(out: OutputSpec, ctx: ExportContext): Promise<ExportResult>;
  /** Reports under the output's vertex once its files are in place. */
  committed?(res: ExportResult, v: VertexReporter, out: OutputSpec): void;
}

/**
 * Runs the outputs' exports one after the other, each under its own vertex ("exporting to …"),
 * its files written through ExportOutputs (in place only when it succeeded), a disk error named
 * by the file, a cancellation reported as such.
 */
export async function exportEach(outputs: readonly OutputSpec[], o: ExportEachOptions): Promise<ExportResult[]> {
  const { signal, services } = o;
  const exports: ExportResult[] = [];
  for (const out of outputs) {
    throwIfAborted(signal);
    const dest = out.attrs.get('dest');
    const label = out.type === 'image' ? 'exporting to image' : `exporting to ${out.type}${dest ? ` ${dest}` : ''}`;
    const v = startVertex(o.progress, { name: label });
    const files = new ExportOutputs(o.stdout);
    try {
      const res = await o.run(out, {
        storage: services.storage,
        snapshotter: services.snapshotter,
        differ: services.differ,
        tmpDir: services.tmpDir,
        signal,
        progress: v.progress,
        openOutput: (d) => files.open(d),
      });
      await files.commit();
      o.committed?.(res, v, out);
      v.done();
      exports.push(res);
    } catch (err) {
      const paths = files.paths;
      await files.discard();
      const e = exportError(err, label, paths.length > 0 ? paths : [services.root]);
      if (signal.aborted) v.cancel();
      else v.fail(e);
      throw signal.aborted ? new CancelledError(signal.reason) : e;
    }
  }
  return exports;
}
