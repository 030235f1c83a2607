/** Parses buildx-style `--output` values: `type=oci,dest=out.tar`, `-` (tar to stdout), `DIR`. */
import { UserInputError } from '../util/errors.js';
import type { OutputSpec } from './types.js';

export function parseOutputSpec(spec: string): OutputSpec {
  if (spec === '-') return { type: 'tar', attrs: new Map([['dest', '-']]) };
  if (!spec.includes('=')) return { type: 'local', attrs: new Map([['dest', spec]]) };
  const attrs = new Map<string, string>();
  for (const part of splitCsv(spec)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserInputError('INVALID_OUTPUT', `invalid output "${spec}": "${part}" is not key=value`);
    attrs.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const type = attrs.get('type');
  if (!type) throw new UserInputError('INVALID_OUTPUT', `invalid output "${spec}": type= is required`);
  attrs.delete('type');
  return { type, attrs };
}

/** Splits on commas outside double quotes (buildx uses CSV). */
function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') {
      quoted = !quoted;
      continue;
    }
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quoted) throw new UserInputError('INVALID_OUTPUT', `invalid output "${s}": unterminated quote`);
  out.push(cur);
  return out.filter((p) => p.trim() !== '');
}
