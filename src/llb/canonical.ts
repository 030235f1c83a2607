/**
 * Canonical encoding of ops. protobufjs already omits proto3 fields that hold their default value
 * and writes fields in number order; on top of that, SourceOp attrs are sorted by key (and must be
 * unique) and there are no map fields, so one logical op always encodes to the same bytes.
 */
import { tsbuild } from './gen/llb.js';
import { sha256Digest } from './digest.js';
import type { Digest } from './types.js';

type OpProps = tsbuild.llb.Op.$Properties;

/** Returns a copy of `op` in canonical form (attrs sorted). Throws on duplicate attr keys. */
export function canonicalOp(op: OpProps): OpProps {
  if (!op.source?.attrs || op.source.attrs.length < 2) return op;
  const attrs = [...op.source.attrs].sort((a, b) => cmp(a.key ?? '', b.key ?? ''));
  for (let i = 1; i < attrs.length; i++) {
    if (attrs[i]?.key === attrs[i - 1]?.key) throw new Error(`duplicate source attribute ${attrs[i]?.key ?? ''}`);
  }
  return { ...op, source: { ...op.source, attrs } };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface EncodedOp {
  readonly bytes: Uint8Array;
  readonly digest: Digest;
}

/** Canonical bytes of an op and their digest. */
export function encodeOp(op: OpProps): EncodedOp {
  const bytes = tsbuild.llb.Op.encode(canonicalOp(op)).finish();
  return { bytes, digest: sha256Digest(bytes) };
}
