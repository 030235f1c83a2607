/**
 * Canonical encoding of ops. Proto3 fields that hold their default value are omitted and fields
 * are written in number order (protobufjs' rules, which op-encoding.ts follows byte for byte); on
 * top of that, SourceOp attrs are sorted by key (and must be unique) and there are no map fields,
 * so one logical op always encodes to the same bytes.
 */
import type { tsbuild } from './gen/llb.js';
import { sha256Digest } from './digest.js';
import { writeOp } from './op-encoding.js';
import { ProtoWriter } from './proto-writer.js';
import type { Digest } from './types.js';

type OpProps = tsbuild.llb.Op.$Properties;
type AttrProps = tsbuild.llb.Attr.$Properties;

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `attrs` in canonical order: the same array when it already is (the common case, no copy), else a
 * sorted copy. Throws on duplicate keys.
 */
export function canonicalAttrs<T extends AttrProps>(attrs: readonly T[]): readonly T[] {
  let sorted = true;
  for (let i = 1; i < attrs.length && sorted; i++) sorted = cmp((attrs[i - 1] as T).key ?? '', (attrs[i] as T).key ?? '') < 0;
  if (sorted) return attrs;
  const out = [...attrs].sort((a, b) => cmp(a.key ?? '', b.key ?? ''));
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.key === out[i - 1]?.key) throw new Error(`duplicate source attribute ${out[i]?.key ?? ''}`);
  }
  return out;
}

/** Returns `op` in canonical form (attrs sorted): `op` itself when it already is. Throws on duplicate attr keys. */
export function canonicalOp(op: OpProps): OpProps {
  const attrs = op.source?.attrs;
  if (!attrs || attrs.length < 2) return op;
  const sorted = canonicalAttrs(attrs);
  if (sorted === attrs) return op;
  return { ...op, source: { ...op.source, attrs: [...sorted] } };
}

export interface EncodedOp {
  readonly bytes: Uint8Array;
  readonly digest: Digest;
}

/** Canonical bytes of an op and their digest. */
export function encodeOp(op: OpProps): EncodedOp {
  const w = new ProtoWriter(256);
  writeOp(w, canonicalOp(op));
  const bytes = w.finish();
  return { bytes, digest: sha256Digest(bytes) };
}
