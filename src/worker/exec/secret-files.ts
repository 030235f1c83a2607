/**
 * Secret files for one run live on a private tmpfs inside the run's bundle: they are bound into the
 * container read-only and never touch the disk, the rootfs, or a cache key. The tmpfs is unmounted
 * (and with it the bytes are gone) when the run ends.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError } from '../../util/errors.js';

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (err) reject(new TsbuildError('MOUNT_FAILED', `${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve();
    });
  });
}

export interface SecretFileSpec {
  readonly data: Uint8Array;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface SecretFiles {
  /** The tmpfs mountpoint. */
  readonly dir: string;
  /** Host paths of the files, in the order of the specs. */
  readonly paths: readonly string[];
  /** Unmounts the tmpfs and removes its mountpoint. */
  release(): Promise<void>;
}

/** Mounts a tmpfs at `dir` (created, must not exist) and writes one file per secret into it. */
export async function writeSecretFiles(dir: string, secrets: readonly SecretFileSpec[]): Promise<SecretFiles> {
  const bytes = secrets.reduce((n, s) => n + s.data.byteLength, 0);
  const size = Math.max(1 << 20, bytes * 2);
  await mkdir(dir, { mode: 0o700 });
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700,nosuid,nodev,noexec`, 'tmpfs', dir]);
  } catch (e) {
    await rmdir(dir);
    throw e;
  }
  const release = async (): Promise<void> => {
    await run('umount', [dir]);
    await rmdir(dir);
  };
  try {
    const paths: string[] = [];
    for (const [i, s] of secrets.entries()) {
      const p = join(dir, String(i));
      await writeFile(p, s.data, { mode: s.mode });
      await chown(p, s.uid, s.gid);
      // writeFile's mode passes through the umask; the mount asked for exactly this one.
      await chmod(p, s.mode);
      paths.push(p);
    }
    return { dir, paths, release };
  } catch (e) {
    await release();
    throw e;
  }
}
