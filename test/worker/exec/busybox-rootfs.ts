/**
 * A tiny Linux root filesystem from Debian's busybox-static, for RUN tests. (A shared
 * test/helpers/busybox.ts may replace this; this one exists so the executor tests need nothing else.)
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';

export interface BusyboxRootfsOptions {
  /** Create /proc, /dev, /sys, /etc/hosts… as real images have them. Default true. */
  readonly systemDirs?: boolean;
  /** Write /etc/passwd and /etc/group. Default true. */
  readonly users?: boolean;
}

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'app:x:1000:1000:app user:/home/app:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

/** `app` is also in `extra` (2000) and `tools` (3000). */
export const GROUP = [
  'root:x:0:',
  'app:x:1000:',
  'extra:x:2000:app',
  'tools:x:3000:other,app',
  'nogroup:x:65534:',
  '',
].join('\n');

export async function makeBusyboxRootfs(dir: string, opts: BusyboxRootfsOptions = {}): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a !== '' && a !== 'busybox');
  await Promise.all(applets.map((a) => symlink('busybox', join(dir, 'bin', a))));
  await mkdir(join(dir, 'tmp'), { mode: 0o1777 });
  await chmod(join(dir, 'tmp'), 0o1777);
  if (opts.users ?? true) {
    await mkdir(join(dir, 'etc'), { recursive: true });
    await writeFile(join(dir, 'etc', 'passwd'), PASSWD);
    await writeFile(join(dir, 'etc', 'group'), GROUP);
    await mkdir(join(dir, 'root'), { mode: 0o700 });
    await mkdir(join(dir, 'home', 'app'), { recursive: true });
    await chown(join(dir, 'home', 'app'), 1000, 1000);
  }
  if (opts.systemDirs ?? true) {
    for (const d of ['proc', 'dev', 'sys']) await mkdir(join(dir, d));
    await mkdir(join(dir, 'etc'), { recursive: true });
    for (const f of ['hosts', 'resolv.conf', 'hostname']) await writeFile(join(dir, 'etc', f), '');
  }
}
