/**
 * COPY source selectors of a context checksum (context-hash.ts): whether one is a wildcard, how a
 * literal one becomes an include pattern, which root-relative paths a wildcard one matches (glob
 * per path component, so a match is a whole path of as many components), the walk order of those
 * matches, and the error for a selector that matches nothing.
 */
import { UserInputError } from '../util/errors.js';
import { globMatch } from '../util/pattern-matcher/glob-match.js';
import { compareGoStrings } from '../util/pattern-matcher/go-compat.js';
import type { ChecksumOptions } from './types.js';

/** Whether a selector holds pattern characters (`*`, `?`, `[`). */
export function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}

/** Escapes pattern characters so a literal path can be used as an include pattern. */
export function literalPattern(p: string): string {
  return p.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

/** The error for a selector that selects nothing, at the COPY's location when known. */
export function notFound(sel: string, opts: ChecksumOptions): UserInputError {
  return new UserInputError('CONTEXT_PATH_NOT_FOUND', `failed to compute cache key: "/${sel}": not found`, opts.location ? { location: opts.location } : {});
}

/** A wildcard selector's test of a root-relative path: is it one of the selector's matches? */
export function matcherOf(sel: string, opts: ChecksumOptions): (path: string) => boolean {
  const comps = sel.split('/');
  return (path) => {
    const parts = path.split('/');
    if (parts.length !== comps.length) return false;
    try {
      return comps.every((c, i) => globMatch(c, parts[i] as string));
    } catch {
      throw new UserInputError('CONTEXT_PATTERN_SYNTAX', `invalid wildcard in source path "${sel}"`, opts.location ? { location: opts.location } : {});
    }
  };
}

/** Walk order of two matches of one selector (as many components each): component by component. */
export function compareMatches(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = compareGoStrings(pa[i] as string, pb[i] as string);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}
