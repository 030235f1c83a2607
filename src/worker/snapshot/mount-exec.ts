/**
 * Overlay mounts and unmounts: mount(2)/umount2(2) through tsbuild's native module
 * (src/util/native-sys.ts), or mount(8)/umount(8) as child processes when it is not built. Node has
 * no mount API, and a spawn stops the daemon's event loop for a fork of its whole heap (10-30 ms
 * here), twice per RUN step. A mount is never interrupted half-way: an abort is honoured after it
 * returns, by unmounting.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { MNT_DETACH, nativeSys } from '../../util/native-sys.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { isMountPoint } from './mount-table-proc.js';

interface ExecResult {
  readonly ok: boolean;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], cwd?: string): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 }, (err, _stdout, stderr) => {
      resolve({ ok: err === null, stderr: (stderr || (err ? err.message : '')).trim() });
    });
  });
}

export interface OverlayMountRequest {
  /** Directory the option string's relative paths are resolved against. */
  readonly cwd: string;
  /** The `-o` string (lowerdir=…,upperdir=…,…). */
  readonly options: string;
  /** Absolute mount point. */
  readonly target: string;
}

/** The kernel copies at most one page of mount data; longer option strings are cut silently. */
export const MOUNT_DATA_LIMIT = 4095;

export async function mountOverlay(req: OverlayMountRequest): Promise<void> {
  if (Buffer.byteLength(req.options) > MOUNT_DATA_LIMIT) {
    throw new SnapshotError(SnapshotErrorCode.mountFailed,
      `overlay mount of ${req.target}: option string is ${Buffer.byteLength(req.options)} bytes, over the kernel's ${MOUNT_DATA_LIMIT}`);
  }
  const sys = nativeSys();
  const r = sys
    ? await sys.mount(req.cwd, 'overlay', req.target, 'overlay', 0, req.options).then(
      () => ({ ok: true, stderr: '' }),
      (e: Error) => ({ ok: false, stderr: `mount: ${e.message}` }))
    : await run('mount', ['-t', 'overlay', 'overlay', '-o', req.options, req.target], req.cwd);
  if (!r.ok) {
    throw new SnapshotError(SnapshotErrorCode.mountFailed, `overlay mount of ${req.target} failed: ${r.stderr.split('\n')[0] ?? ''}`, {
      detail: [`options: ${req.options.length > 300 ? `${req.options.slice(0, 300)}…` : req.options}`],
    });
  }
}

/**
 * Unmounts `target`. A busy mount (a process still has a file open in it) is retried briefly and
 * then detached lazily, so nothing stays visible; the kernel frees it when the last user closes.
 * A target that is not mounted is fine.
 */
export async function unmount(target: string): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const r = await umount(target, false);
    if (r.ok) return;
    last = r.stderr;
    if (/not mounted|no mount point|not found|EINVAL|ENOENT/i.test(r.stderr) && !(await isMountPoint(target))) return;
    await sleep(25 * (attempt + 1));
  }
  const lazy = await umount(target, true);
  if (lazy.ok || !(await isMountPoint(target))) return;
  throw new SnapshotError(SnapshotErrorCode.unmountFailed, `cannot unmount ${target}: ${last || lazy.stderr}`);
}

/** One umount2(2) (native) or umount(8); `lazy` detaches a busy mount. */
function umount(target: string, lazy: boolean): Promise<ExecResult> {
  const sys = nativeSys();
  if (sys === undefined) return run('umount', lazy ? ['-l', target] : [target]);
  return sys.umount(target, lazy ? MNT_DETACH : 0).then(
    () => ({ ok: true, stderr: '' }),
    (e: Error) => ({ ok: false, stderr: `umount: ${e.message}` }));
}
