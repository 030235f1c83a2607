/**
 * The persistent cache key of a vertex: sha256 over the op's CacheMap digest and one part per input
 * — the input's own cache key (and which output of it), or the content checksum of the selected
 * paths of the input's result. Keys therefore change exactly when the op or something it reads
 * changes, and never because of metadata, timestamps or the machine.
 */
import { createHash } from 'node:crypto';
import { assertNever } from '../util/errors.js';

export type KeyPart =
  /** Keyed by the input's cache key: any change upstream changes this key. */
  | { readonly kind: 'key'; readonly key: string; readonly output: number }
  /** Keyed by the content of the selected paths of the input's result. */
  | { readonly kind: 'content'; readonly selector: string; readonly checksum: string };

const VERSION = 'tsbuild.cachekey.v1';

export function computeCacheKey(opDigest: string, parts: readonly KeyPart[]): string {
  // JSON of arrays and fixed-order objects is canonical, and unambiguous where concatenation is not.
  const canonical = JSON.stringify([
    VERSION,
    opDigest,
    parts.map((p) => (p.kind === 'key' ? ['k', p.key, p.output] : ['c', p.selector, p.checksum])),
  ]);
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** The link stored with a record for one input (cache export, miss explanations). */
export function inputLink(p: KeyPart): string {
  switch (p.kind) {
    case 'key':
      return p.output === 0 ? p.key : `${p.key}#${p.output}`;
    case 'content':
      return `content:${p.checksum}`;
    default:
      return assertNever(p, 'key part');
  }
}
