/**
 * Hashing content digests (the grammar is src/oci/digest.ts): sha256 helpers and a hasher for the
 * algorithm a digest names. Pulled
 * content is always verified with the algorithm its digest names; tsbuild produces sha256 only.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { validateDigest } from '../oci/digest.js';

/** `sha256:<hex>` of the bytes. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A running hash for the algorithm a digest names (validated first). */
export function hasherFor(digest: string): { readonly hash: Hash; readonly algorithm: string } {
  validateDigest(digest);
  const algorithm = digest.slice(0, digest.indexOf(':'));
  return { hash: createHash(algorithm), algorithm };
}
