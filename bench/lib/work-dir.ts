/** A benchmark's temp work dir: made under a parent dir, always removed (mounts first) afterwards. */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { unmountAndRemove } from './teardown.js';

export interface WorkDirOptions {
  /** Where to make it (default: the OS temp dir). */
  readonly parent: string;
  readonly prefix: string;
  /** Keep it for inspection instead of removing it. */
  readonly keep?: boolean;
}

export async function withWorkDir<T>(opts: WorkDirOptions, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(opts.parent, opts.prefix));
  try {
    return await fn(dir);
  } finally {
    if (opts.keep === true) process.stderr.write(`kept ${dir}\n`);
    else await unmountAndRemove(dir);
  }
}
