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
  const [major = 0, minor = 0] = release().split('.').map((n) => parseInt(n, 10));
  return major > 4 || (major === 4 && minor >= 19) ? wanted.map(([, o]) => o) : [];
}

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
