/** Wildcard syntax helpers and the --exclude glue over the shared Docker patternmatcher. */
import { describe, expect, test } from '@jest/globals';
import { compilePatterns, mayReincludeBelow } from '../../../src/worker/fileop/pattern-filter.js';
import { hasWildcards, unescapeLiteral } from '../../../src/worker/fileop/wildcard-syntax.js';

describe('wildcard syntax', () => {
  test('hasWildcards honours escapes', () => {
    expect(hasWildcards('a*')).toBe(true);
    expect(hasWildcards('a\\*')).toBe(false);
    expect(hasWildcards('a\\[1]')).toBe(false);
    expect(hasWildcards('x[1]')).toBe(true);
    expect(hasWildcards('q?')).toBe(true);
    expect(hasWildcards('plain.txt')).toBe(false);
  });

  test('unescapeLiteral removes escapes', () => {
    expect(unescapeLiteral('a\\[1\\]')).toBe('a[1]');
    expect(unescapeLiteral('a\\\\b')).toBe('a\\b');
    expect(unescapeLiteral('trailing\\')).toBe('trailing\\');
  });
});

describe('exclude patterns', () => {
  test('none → no matcher; one leading / is dropped, also after !', () => {
    expect(compilePatterns([], undefined)).toBeUndefined();
    expect(compilePatterns(['  '], undefined)).toBeUndefined();
    const m = compilePatterns(['/docs', '!/docs/keep.md'], undefined);
    expect(m?.matchesOrParentMatches('docs/a.md')).toBe(true);
    expect(m?.matchesOrParentMatches('docs/keep.md')).toBe(false);
  });

  test('malformed patterns are user errors with the location', () => {
    const location = { file: 'Dockerfile', line: 2, column: 1 };
    expect(() => compilePatterns(['['], location)).toThrow(expect.objectContaining({ code: 'FILEOP_BAD_PATTERN', location }));
    expect(() => compilePatterns(['!'], location)).toThrow(expect.objectContaining({ code: 'FILEOP_BAD_PATTERN' }));
    // Compiles as a glob, but its class range is reversed: reported up front, not mid-copy.
    expect(() => compilePatterns(['[Local-Only]/'], location)).toThrow(expect.objectContaining({ code: 'FILEOP_BAD_PATTERN' }));
  });

  test('mayReincludeBelow follows fsutil: a ! pattern below the dir, or any wildcard one', () => {
    const m = (...p: string[]) => compilePatterns(p, undefined) ?? (() => { throw new Error('no matcher'); })();
    expect(mayReincludeBelow(m('docs', '!docs/keep.md'), 'docs')).toBe(true);
    expect(mayReincludeBelow(m('docs', '!other/keep.md'), 'docs')).toBe(false);
    expect(mayReincludeBelow(m('docs', '!**/*.md'), 'docs')).toBe(true);
    expect(mayReincludeBelow(m('docs', '!docs/**'), 'docs')).toBe(true);
    expect(mayReincludeBelow(m('docs'), 'docs')).toBe(false);
  });
});
