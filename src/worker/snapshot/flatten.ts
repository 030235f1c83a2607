/**
 * Flattened lower directories for chains deeper than one mount can stack: the merged view of an
 * ancestor, copied once into `<ancestor>/flat/` (whiteouts and opaque directories already applied
 * by overlayfs itself) and reused by every mount above it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledError, throwIfAborted } from '../../util/errors.js';
import { isErrno } from './atomic-file.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import type { Overlay2Layout } from './layout.js';
import { removeTree } from './remove-tree.js';

export interface FlattenDeps {
  readonly layout: Overlay2Layout;
  /** Owner token, so a crashed copy's temporary directory is recognised by cleanupStale(). */
  readonly owner: string;
  /** Runs `fn` with a read-only view of the committed snapshot `id` mounted at `root`. */
  readonly withView: <T>(id: string, fn: (root: string) => Promise<T>, signal: AbortSignal | undefined) => Promise<T>;
}

function copyTree(from: string, to: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // GNU cp -a keeps owners, modes, times, hardlinks, symlinks, devices and xattrs.
    const child = spawn('cp', ['-a', '--no-target-directory', `${from}/.`, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new CancelledError(signal.reason));
      else if (code === 0) resolve();
      else reject(new SnapshotError(SnapshotErrorCode.flattenFailed, `cp -a into ${to} failed: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
  });
}

/** Makes sure `<id>/flat` exists. Concurrent callers (also in other processes) are safe: one wins. */
export async function ensureFlat(deps: FlattenDeps, id: string, signal: AbortSignal | undefined): Promise<void> {
  const final = deps.layout.flat(id);
  if (await exists(final)) return;
  throwIfAborted(signal);
  const tmp = join(deps.layout.snapshot(id), `flat.tmp-${deps.owner}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { mode: 0o755 });
  try {
    await deps.withView(id, (root) => copyTree(root, tmp, signal), signal);
    try {
      await rename(tmp, final);
    } catch (e) {
      // Another process finished first; its copy is identical.
      if (!isErrno(e, 'ENOTEMPTY') && !isErrno(e, 'EEXIST')) throw e;
    }
  } finally {
    await removeTree(tmp);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}
