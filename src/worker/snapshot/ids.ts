/** Random snapshot ids and link names, as Docker's overlay2 driver makes them. */
import { randomBytes } from 'node:crypto';
import { SnapshotError, SnapshotErrorCode } from './errors.js';

const ID_RE = /^[0-9a-f]{64}$/;
const LINK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * Link names are 6 characters, not Docker's 26: the whole mount option string must fit in one page
 * (4096 bytes), and 500 lowers × 7 bytes (`NAME:`) leaves room for upperdir/workdir. 36^6 ≈ 2·10^9
 * names; collisions are detected (the symlink is created exclusively) and retried.
 */
export const LINK_NAME_LENGTH = 6;

export function newSnapshotId(): string {
  return randomBytes(32).toString('hex');
}

export function newLinkName(): string {
  const bytes = randomBytes(LINK_NAME_LENGTH);
  let s = '';
  // 256 % 36 = 4: a slight bias towards the first letters is harmless for uniqueness.
  for (const b of bytes) s += LINK_ALPHABET[b % LINK_ALPHABET.length];
  return s;
}

export function isSnapshotId(s: string): boolean {
  return ID_RE.test(s);
}

/** Ids become path components, so anything but 64 lowercase hex digits is refused. */
export function assertSnapshotId(id: string): void {
  if (!isSnapshotId(id)) {
    throw new SnapshotError(SnapshotErrorCode.invalidId, `invalid snapshot id ${JSON.stringify(id)}: want 64 lowercase hex digits`);
  }
}

