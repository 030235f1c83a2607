/**
 * One entry point for the worker's FileOp: turn a decoded `tsbuild.llb.FileAction` into a
 * {@link FileAction} and run it against host directories the caller mounted. Chaining actions
 * (`input`/`secondary_input`/`output` indices) and mounting are the caller's job.
 */
import type { tsbuild } from '../../llb/gen/llb.js';
import { assertNever, TsbuildError } from '../../util/errors.js';
import { copy } from './copy.js';
import { mkdirAction } from './mkdir.js';
import { mkfileAction } from './mkfile.js';
import { rmAction } from './rm.js';
import { symlinkAction } from './symlink.js';
import type { CopyResult, FileAction, FileOpContext } from './types.js';

/** The union member for a decoded LLB action (its `action` oneof, or whichever member is set). */
export function fromLlbFileAction(a: tsbuild.llb.FileAction.$Properties): FileAction {
  const which = a.action ?? (a.copy ? 'copy' : a.mkfile ? 'mkfile' : a.mkdir ? 'mkdir' : a.rm ? 'rm' : a.symlink ? 'symlink' : undefined);
  switch (which) {
    case 'copy':
      return { kind: 'copy', copy: a.copy ?? {} };
    case 'mkfile':
      return { kind: 'mkfile', mkfile: a.mkfile ?? {} };
    case 'mkdir':
      return { kind: 'mkdir', mkdir: a.mkdir ?? {} };
    case 'rm':
      return { kind: 'rm', rm: a.rm ?? {} };
    case 'symlink':
      return { kind: 'symlink', symlink: a.symlink ?? {} };
    case undefined:
      throw new TsbuildError('FILEOP_EMPTY_ACTION', 'file action has no copy, mkfile, mkdir, rm or symlink');
    default:
      return assertNever(which, 'file action');
  }
}

/** What an action did. */
export type FileActionResult =
  | { readonly kind: 'copy'; readonly copy: CopyResult }
  | { readonly kind: 'mkdir'; readonly created: readonly string[] }
  | { readonly kind: 'mkfile'; readonly path: string }
  | { readonly kind: 'rm'; readonly removed: readonly string[] }
  | { readonly kind: 'symlink'; readonly path: string };

/** Runs one action in `ctx.destRoot` (reading `ctx.srcRoot` for copies). */
export async function runFileAction(action: FileAction, ctx: FileOpContext): Promise<FileActionResult> {
  switch (action.kind) {
    case 'copy':
      return { kind: 'copy', copy: await copy(action.copy, ctx) };
    case 'mkdir':
      return { kind: 'mkdir', created: await mkdirAction(action.mkdir, ctx) };
    case 'mkfile':
      return { kind: 'mkfile', path: await mkfileAction(action.mkfile, ctx) };
    case 'rm':
      return { kind: 'rm', removed: await rmAction(action.rm, ctx) };
    case 'symlink':
      return { kind: 'symlink', path: await symlinkAction(action.symlink, ctx) };
    default:
      return assertNever(action, 'file action');
  }
}
