/**
 * Checks that the machine can run builds before any work starts, each failure naming the command
 * that fixes it: root, overlayfs in the kernel, runc on PATH.
 */
import { execFile } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { TsbuildError } from '../util/errors.js';

const run = promisify(execFile);

export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new TsbuildError('PREFLIGHT_NOT_ROOT', 'tsbuild needs root to mount overlay snapshots and run runc (run it with sudo, or as root)');
  }
  let fs = '';
  try {
    fs = await readFile('/proc/filesystems', 'utf8');
  } catch {
    /* treated as unsupported below */
  }
  if (!/\toverlay$/m.test(fs)) {
    await run('modprobe', ['overlay']).catch(() => undefined);
    fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
    if (!/\toverlay$/m.test(fs)) {
      throw new TsbuildError('PREFLIGHT_NO_OVERLAY', 'this kernel has no overlay filesystem (try: modprobe overlay); tsbuild needs overlayfs for snapshots');
    }
  }
  if ((await findOnPath('runc')) === undefined) {
    throw new TsbuildError('PREFLIGHT_NO_RUNC', 'runc was not found on PATH; install it with: apt-get install runc');
  }
}

/** The executable `name` in the first PATH directory holding one (a lookup, not a spawn: every build pays it). */
export async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
