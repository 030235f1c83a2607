/**
 * A tar stream of a directory's contents, made by GNU tar (numeric owners, xattrs, sorted names, so
 * the same tree gives the same bytes). `image import DIR` uses it: the engine when the directory is
 * on its machine, tsbuild's gRPC client when it streams the directory to tsbuildd — one producer,
 * so both give the same layer. A `--build-context` directory travels to tsbuildd the same way, with
 * only the entries its `.dockerignore` leaves.
 */
import type * as ChildProcess from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { TsbuildError } from './errors.js';
import { lazyBuiltin } from './lazy-builtin.js';

/** Required on first use: the CLI's build through a daemon imports this and mostly never tars. */
const childProcess = lazyBuiltin<typeof ChildProcess>('node:child_process');

/**
 * `paths` (slash-separated, relative to `dir`): only these entries, each on its own (no recursion),
 * in the order given; default every entry under `dir`.
 */
export function tarDirectory(dir: string, signal: AbortSignal, opts: { readonly paths?: readonly string[] } = {}): Readable {
  const list = opts.paths;
  const select = list === undefined ? ['.'] : ['--null', '--no-recursion', '-T', '-'];
  const child = childProcess().spawn('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '--sort=name', '-C', dir, '-cf', '-', ...select], { stdio: ['pipe', 'pipe', 'pipe'], signal });
  child.stdin.on('error', () => undefined); // tar's exit reports what went wrong
  child.stdin.end(list === undefined ? '' : list.map((p) => `${p}\0`).join(''));
  const out = new PassThrough();
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout.pipe(out, { end: false });
  child.on('error', (e) => out.destroy(e));
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new TsbuildError('IMPORT_TAR_FAILED', `tar of ${dir} failed (${code}): ${err.trim()}`));
  });
  return out;
}
