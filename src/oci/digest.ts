/**
 * Content digests (`algorithm:hex`) validated the way go-digest does: the one grammar that image
 * references (reference.ts), manifests and the distribution client check digests against.
 */
import { UserInputError } from '../util/errors.js';

/** Hex length of each supported algorithm. */
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export type DigestErrorReason = 'digest-format' | 'digest-unsupported' | 'digest-length';

export class DigestError extends UserInputError {
  readonly reason: DigestErrorReason;
  /** The message without the digest. */
  readonly why: string;

  constructor(digest: string, reason: DigestErrorReason, why: string) {
    super('INVALID_DIGEST', `${why}: ${JSON.stringify(digest)}`);
    this.name = 'DigestError';
    this.reason = reason;
    this.why = why;
  }
}

/** Throws DigestError unless `d` is a well-formed digest of a supported algorithm. */
export function validateDigest(d: string): void {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) throw new DigestError(d, 'digest-format', 'invalid checksum digest format');
  const alg = d.slice(0, i);
  const hex = d.slice(i + 1);
  const want = HEX_LENGTH[alg];
  if (want === undefined) {
    if (!DIGEST_GRAMMAR.test(d)) throw new DigestError(d, 'digest-format', 'invalid checksum digest format');
    throw new DigestError(d, 'digest-unsupported', 'unsupported digest algorithm');
  }
  if (hex.length !== want) throw new DigestError(d, 'digest-length', 'invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw new DigestError(d, 'digest-format', 'invalid checksum digest format');
}

export function isValidDigest(d: string): boolean {
  try {
    validateDigest(d);
    return true;
  } catch {
    return false;
  }
}
