/** Shared helpers for conversion tests: parse + convert a Dockerfile given as text. */
import { parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../../src/frontend/dockerfile/convert/convert.js';
import type { ConvertOptions, ConvertResult } from '../../../src/frontend/types.js';
import type { LLBVertex } from '../../../src/llb/types.js';

export function convert(src: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  return convertDockerfile(parseDockerfile(src, { file: 'Dockerfile' }), { platform: 'linux/amd64', ...opts });
}

export function vertices(r: ConvertResult): LLBVertex[] {
  return [...r.definition.loaded.vertices.values()];
}

/** The vertex whose description contains `text`. */
export function byName(r: ConvertResult, text: string): LLBVertex {
  const v = vertices(r).find((x) => x.metadata.description.includes(text));
  if (!v) throw new Error(`no vertex named like ${text}; have: ${vertices(r).map((x) => x.metadata.description).join(' | ')}`);
  return v;
}

export function execOf(v: LLBVertex) {
  if (v.op.kind !== 'exec') throw new Error(`${v.metadata.description} is ${v.op.kind}, not exec`);
  return v.op.exec;
}

export function fileOf(v: LLBVertex) {
  if (v.op.kind !== 'file') throw new Error(`${v.metadata.description} is ${v.op.kind}, not file`);
  return v.op.file;
}

export function sourceOf(v: LLBVertex) {
  if (v.op.kind !== 'source') throw new Error(`${v.metadata.description} is ${v.op.kind}, not source`);
  return v.op.source;
}
