/**
 * The op part of a cache key. A vertex digest covers the op and its inputs' digests; the cache key
 * (DESIGN.md) instead combines the op's own definition with its inputs' cache keys. This is that op
 * part: the canonical encoding with input digests blanked (their positions kept) and the fields
 * that must not invalidate a cache (HTTP proxy settings, as in BuildKit) removed.
 */
import { tsbuild } from './gen/llb.js';
import { encodeOp } from './canonical.js';
import type { Digest, LLBVertex } from './types.js';

export function opCacheDigest(v: Pick<LLBVertex, 'bytes'>): Digest {
  // A fresh decode is ours to modify.
  const op = tsbuild.llb.Op.decode(v.bytes);
  op.inputs = op.inputs.map((i) => ({ digest: '', index: i.index ?? 0 }));
  if (op.exec?.meta) delete op.exec.meta.proxyEnv;
  return encodeOp(op).digest;
}
