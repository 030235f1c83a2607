/**
 * mount(8)/umount(8) for overlay mounts. Node has no mount API; a child process per mount costs a
 * few milliseconds, which is small next to what a mount is used for (a RUN step, a copy).
 * mount(8) is never killed half-way: an abort is honoured after it returns, by unmounting.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
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
  const r = await run('mount', ['-t', 'overlay', 'overlay', '-o', req.options, req.target], req.cwd);
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
    const r = await run('umount', [target]);
    if (r.ok) return;
    last = r.stderr;
    if (/not mounted|no mount point|not found/i.test(r.stderr) && !(await isMountPoint(target))) return;
    await sleep(25 * (attempt + 1));
  }
  const lazy = await run('umount', ['-l', target]);
  if (lazy.ok || !(await isMountPoint(target))) return;
  throw new SnapshotError(SnapshotErrorCode.unmountFailed, `cannot unmount ${target}: ${last || lazy.stderr}`);
}
