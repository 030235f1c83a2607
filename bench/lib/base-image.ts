/**
 * The offline busybox base image as a root-filesystem tar (scripts/make-busybox-rootfs.sh is the
 * one implementation): every tool imports the same bytes as localhost/busybox:latest.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { busyboxScript } from './paths.js';
import { runCommand } from './run-command.js';

export async function makeBaseTar(dir: string, opts: { readonly signal: AbortSignal }): Promise<string> {
  const busybox = process.env['BUSYBOX'] ?? '/bin/busybox';
  if (!existsSync(busybox)) throw new TsbuildError('BENCH_NO_BUSYBOX', `${busybox} not found (apt-get install busybox-static)`);
  const file = join(dir, 'busybox.tar');
  const r = await runCommand('bash', [busyboxScript, file], { signal: opts.signal });
  if (r.code !== 0) throw new TsbuildError('BENCH_NO_BUSYBOX', `make-busybox-rootfs.sh failed: ${r.stderr.trim()}`);
  return file;
}
