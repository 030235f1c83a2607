/** Building the overlayfs option string. */
import { existsSync } from 'node:fs';
import { release } from 'node:os';

/** OVL_MAX_STACK: the kernel refuses more lower directories than this. */
export const KERNEL_MAX_LOWERS = 500;

/**
 * Options that keep the upper directory a plain diff: no redirect xattrs for renamed directories
 * (a rename copies up the whole directory instead), no metadata-only copy-ups, no inode index.
 * Passed only when the running kernel knows them (its overlay module lists them as parameters).
 */
export function diffSafeOptions(paramsDir = '/sys/module/overlay/parameters'): readonly string[] {
  const wanted: ReadonlyArray<readonly [string, string]> = [
    ['index', 'index=off'],
    ['redirect_dir', 'redirect_dir=off'],
    ['metacopy', 'metacopy=off'],
  ];
  if (existsSync(paramsDir)) return wanted.filter(([p]) => existsSync(`${paramsDir}/${p}`)).map(([, o]) => o);
  // Module not loaded yet: every kernel since 4.19 knows all three.
  return kernelAtLeast(4, 19) ? wanted.map(([, o]) => o) : [];
}

/** Whether `release` (a kernel release string, default the running one's) is at least major.minor. */
function kernelAtLeast(major: number, minor: number, rel = release()): boolean {
  const [a = 0, b = 0] = rel.split('.').map((n) => parseInt(n, 10));
  return a > major || (a === major && b >= minor);
}

/**
 * `volatile` (Linux 5.10+) for a writable mount: overlayfs then skips every sync of the upper
 * filesystem, above all the `syncfs` of the whole upper filesystem that an unmount does. That sync
 * cost 30–250 ms per RUN step here (it flushes every dirty page of the data root's filesystem,
 * other builds' too), more than the rest of the step's own bookkeeping together. Nothing is lost
 * that tsbuild relied on: snapshot contents were never fsynced (a COPY's files are not either);
 * only blobs and metadata are durable, and an active snapshot of a dead process is discarded,
 * never mounted again. The kernel leaves `work/work/incompat/volatile` behind and refuses a
 * later volatile mount on that work dir while it exists: see VOLATILE_MARKER.
 */
export function volatileOptions(rel = release()): readonly string[] {
  return kernelAtLeast(5, 10, rel) ? ['volatile'] : [];
}

/** What a volatile mount leaves in its work dir (relative to it); removed before a remount. */
export const VOLATILE_MARKER = 'work/incompat';

export interface OverlayOptionsInput {
  /** Lower directories, nearest first, relative to the mount's cwd. */
  readonly lowers: readonly string[];
  readonly upper?: string;
  readonly work?: string;
  readonly extra: readonly string[];
}

export function overlayOptionString(input: OverlayOptionsInput): string {
  const parts = [`lowerdir=${input.lowers.join(':')}`];
  if (input.upper !== undefined) parts.push(`upperdir=${input.upper}`);
  if (input.work !== undefined) parts.push(`workdir=${input.work}`);
  parts.push(...input.extra);
  return parts.join(',');
}
