/**
 * `type=local,dest=DIR` (the final filesystem copied into a directory) and `type=tar,dest=FILE|-`
 * (the final filesystem as one tar stream).
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { UserInputError, TsbuildError } from '../util/errors.js';
import { runFileAction } from '../worker/fileop/file-action.js';
import type { Exporter, ExportContext, ExportRequest, ExportResponse } from './types.js';

async function withResultRoot<T>(req: ExportRequest, ctx: ExportContext, fn: (root: string | undefined) => Promise<T>): Promise<T> {
  if (req.snapshot === undefined) return fn(undefined);
  return ctx.snapshotter.withView(req.snapshot, fn, { signal: ctx.signal });
}

export class LocalDirExporter implements Exporter {
  readonly type = 'local';

  async export(req: ExportRequest, ctx: ExportContext): Promise<ExportResponse> {
    const dest = req.attrs.get('dest');
    if (!dest) throw new UserInputError('INVALID_OUTPUT', 'output type=local needs dest=DIR');
    await mkdir(dest, { recursive: true });
    await withResultRoot(req, ctx, async (root) => {
      if (root === undefined) return;
      await runFileAction(
        { kind: 'copy', copy: { src: '/', dest: '/', dirCopyContents: true, createDestPath: true, alwaysReplaceExistingDestPaths: true } },
        { destRoot: dest, srcRoot: root, signal: ctx.signal },
      );
    });
    return {};
  }
}

export class TarExporter implements Exporter {
  readonly type = 'tar';

  async export(req: ExportRequest, ctx: ExportContext): Promise<ExportResponse> {
    const dest = req.attrs.get('dest');
    if (!dest) throw new UserInputError('INVALID_OUTPUT', 'output type=tar needs dest=FILE (or dest=- for stdout)');
    const out = await ctx.openOutput(dest);
    await withResultRoot(req, ctx, (root) => tarDirectory(root, out, { sourceDateEpoch: req.sourceDateEpoch, signal: ctx.signal }));
    return {};
  }
}

/** Writes `root` (nothing when undefined) as one tar stream to `out`, mtimes clamped to the epoch. */
export async function tarDirectory(root: string | undefined, out: Writable, opts: { readonly sourceDateEpoch: number | undefined; readonly signal: AbortSignal }): Promise<void> {
  // GNU tar is the physical reference for a plain filesystem tar (xattrs and hardlinks included).
  const args = ['--xattrs', '--xattrs-include=*', '--numeric-owner', '--sort=name', '-C', root ?? '/var/empty', '-cf', '-', ...(root ? ['.'] : ['--files-from=/dev/null'])];
  if (opts.sourceDateEpoch !== undefined) args.unshift(`--mtime=@${opts.sourceDateEpoch}`, '--clamp-mtime');
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  // When the pipe fails first (a reader that went away), the abort's error is not the news.
  exited.catch(() => undefined);
  await pipeline(child.stdout, out);
  const code = await exited;
  if (code !== 0) throw new TsbuildError('EXPORT_TAR_FAILED', `tar exited with ${code}: ${err.trim()}`);
}
