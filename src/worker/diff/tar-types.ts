/** The tar entry model shared by the layer writer and reader. */

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/**
 * One tar entry's metadata. Names and link targets are byte strings (see byte-path.ts): char codes
 * are raw bytes, so any file name survives.
 */
export interface TarHeader {
  /** Relative path, no leading `./`; directories end with `/`. */
  readonly name: string;
  readonly type: TarEntryType;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Body length; 0 for everything but regular files. */
  readonly size: number;
  /** Seconds since the Unix epoch; whole seconds when written, PAX fractions accepted when read. */
  readonly mtime: number;
  /** Hardlink target (another entry's name) or symlink contents. */
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes (`SCHILY.xattr.<name>` PAX records), values as raw bytes. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

export const BLOCK = 512;

/** Bytes of padding after a body of `size` bytes. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}
