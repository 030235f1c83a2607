/**
 * Is this file a tar archive (possibly compressed)? Decided by content, as BuildKit's ADD does: the
 * decompressed stream must start with a valid tar header. An empty archive (a zero block) counts as
 * "not an archive" there too, so it is copied as a file.
 */
import { lstat } from 'node:fs/promises';
import { openDecompressed, readHead, readStreamHead } from './decompress.js';
import { detectCompression, type Compression } from '../../util/compression.js';

const BLOCK = 512;

/** Whether a 512-byte block is a tar header with a valid checksum (ustar, GNU or v7). */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK) return false;
  if (block.every((b) => b === 0)) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]{1,8}$/.test(field)) return false;
  const want = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** The archive's compression when `path` is a regular file holding a tar archive, else undefined. */
export async function detectArchive(path: string, signal?: AbortSignal): Promise<Compression | undefined> {
  const st = await lstat(path);
  if (!st.isFile() || st.size === 0) return undefined;
  const compression = detectCompression(await readHead(path, 8));
  let head: Buffer;
  if (compression === 'none') {
    head = await readHead(path, BLOCK);
  } else {
    try {
      head = await readStreamHead(openDecompressed(path, compression, signal), BLOCK);
    } catch {
      // Not decompressible after all (e.g. a text file starting with "BZh"): a plain file.
      return undefined;
    }
  }
  return isTarHeader(head) ? compression : undefined;
}
