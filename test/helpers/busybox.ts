/**
 * The offline busybox base root filesystem for tests (scripts/make-busybox-rootfs.sh is the one
 * implementation; these wrap it). Needs Debian's busybox-static; nothing binary is committed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { busyboxBinary } from './requirements.mjs';

export const busyboxScript = join(repoRoot, 'scripts', 'make-busybox-rootfs.sh');
export { busyboxBinary };
export const haveBusybox = existsSync(busyboxBinary);

function runScript(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [busyboxScript, ...args], { encoding: 'utf8' }, (err, _out, stderr) => {
      if (err) reject(new Error(`make-busybox-rootfs.sh ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Writes the busybox root filesystem into `dir` (created; must be empty or absent). */
export function makeBusyboxRootfs(dir: string): Promise<void> {
  return runScript(['--dir', dir]);
}

/** Writes the busybox root filesystem as a reproducible tar (same bytes every time). */
export function makeBusyboxTar(file: string): Promise<void> {
  return runScript([file]);
}
