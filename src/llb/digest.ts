/** Vertex digests: `sha256:` + hex of the op's canonical encoding. */
import { createHash, hash } from 'node:crypto';
import type { Digest } from './types.js';

// crypto.hash (Node >= 20.12) is the one-shot form, several times faster on small inputs.
const oneShot = typeof hash === 'function';

export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${oneShot ? hash('sha256', bytes, 'hex') : createHash('sha256').update(bytes).digest('hex')}`;
}

/** The bare hex of the sha256 of `bytes` (a digest without its `sha256:` prefix). */
export function sha256Hex(bytes: Uint8Array): string {
  return oneShot ? hash('sha256', bytes, 'hex') : createHash('sha256').update(bytes).digest('hex');
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}
