/**
 * Which compression a stream or file uses, from its first bytes (never from a name or media type,
 * as Docker's ADD and `docker load` do): the one detector for layer blobs, loaded archives and
 * ADD sources. Pure: callers read the head themselves (at least COMPRESSION_HEAD_BYTES bytes).
 */

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** Bytes of a stream's head that detectCompression needs to tell every format apart. */
export const COMPRESSION_HEAD_BYTES = 6;

const MAGIC: ReadonlyArray<readonly [Exclude<Compression, 'none'>, readonly number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/** The compression of a stream whose first bytes are `head`; 'none' when no magic matches. */
export function detectCompression(head: Uint8Array): Compression {
  for (const [kind, magic] of MAGIC) {
    if (head.length >= magic.length && magic.every((m, i) => head[i] === m)) return kind;
  }
  return 'none';
}
