/** OCI content digests as the content store uses them: always "sha256:<64 lowercase hex>". */
import { createHash } from 'node:crypto';
import { TsbuildError } from '../util/errors.js';

const SHA256 = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a sha256 digest; throws INVALID_DIGEST for anything else. */
export function digestHex(digest: string): string {
  const m = SHA256.exec(digest);
  if (!m?.[1]) throw new TsbuildError('INVALID_DIGEST', `invalid digest "${digest}": expected sha256:<64 lowercase hex digits>`);
  return m[1];
}

export function isSha256Digest(s: string): boolean {
  return SHA256.test(s);
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
