/**
 * `--chmod` values: octal (`755`, `0644`, at most 07777) or symbolic like chmod(1)
 * (`u=rwX,go=rX`, `+x`, `a-w,u+s`). Returns which form it is, or a reason it is invalid.
 */

export type ChmodSpec =
  | { readonly kind: 'octal'; readonly mode: number }
  | { readonly kind: 'symbolic'; readonly expr: string };

const SYMBOLIC_CLAUSE = /^[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+$/;

/** Parses a chmod value; returns an error message string when invalid. */
export function parseChmod(value: string): ChmodSpec | { readonly error: string } {
  if (/^[0-9]+$/.test(value)) {
    if (!/^[0-7]+$/.test(value) || Number.parseInt(value, 8) > 0o7777) {
      return { error: 'it should be octal string and between 0 and 07777' };
    }
    return { kind: 'octal', mode: Number.parseInt(value, 8) };
  }
  if (value === '') return { error: 'empty value' };
  for (const clause of value.split(',')) {
    if (!SYMBOLIC_CLAUSE.test(clause)) {
      return { error: `"${clause}" is not a symbolic mode like u=rwX,go=rX (who: ugoa, op: + - =, perms: rwxXst or u/g/o)` };
    }
  }
  return { kind: 'symbolic', expr: value };
}
