/** The Go-regexp-to-JS translation used by the pattern matcher and the shell lexer. */
import { describe, expect, test } from '@jest/globals';
import { compileGoRegexp, GoRegexpError } from '../../../src/util/pattern-matcher/go-regexp.js';

const m = (src: string, s: string): boolean => compileGoRegexp(src).test(s);

describe('Go regexp translation', () => {
  test('. does not match a newline, a negated class does', () => {
    expect(m('^a.b$', 'a\nb')).toBe(false);
    expect(m('^a[^/]b$', 'a\nb')).toBe(true);
  });

  test('classes: leading ] is literal, escapes and ranges, code points', () => {
    expect(m('^[]a]$', ']')).toBe(true);
    expect(m('^[\\]a]$', ']')).toBe(true);
    expect(m('^[x\\-]$', '-')).toBe(true);
    expect(m('^[a-ζ]$', 'α')).toBe(true);
    expect(m('^[^a]$', '\u{1F600}')).toBe(true);
  });

  test('POSIX named classes', () => {
    expect(m('^[[:alpha:]]+$', 'abcXYZ')).toBe(true);
    expect(m('^[[:alpha:]]$', '1')).toBe(false);
  });

  test('a class with the glob star inside still parses as Go parses it', () => {
    // Docker turns the glob `a[*]b` into `^a[[^/]*]b$`: class {[,^,/} repeated, then `]b`.
    expect(m('^a[[^/]*]b$', 'a[^]b')).toBe(true);
    expect(m('^a[[^/]*]b$', 'axb')).toBe(false);
  });

  test('escaped punctuation is literal; Perl classes are ASCII', () => {
    expect(m('^a\\-b\\.c$', 'a-b.c')).toBe(true);
    expect(m('^\\d\\s$', '1 ')).toBe(true);
    expect(m('^\\s$', '\u00A0')).toBe(false);
  });

  test.each([
    ['[z-a]', 'reversed range'],
    ['[a', 'missing ]'],
    ['\\', 'trailing backslash'],
    ['\\q', 'unknown escape'],
    ['a**', 'nested repetition'],
    ['*a', 'nothing to repeat'],
    ['(a', 'missing )'],
    ['[[:nope:]]', 'unknown named class'],
  ])('%j is an error (%s)', (src) => {
    expect(() => compileGoRegexp(src)).toThrow(GoRegexpError);
  });

  test('lazy quantifiers are kept', () => {
    expect(compileGoRegexp('^a.*?b').exec('aXbYb')?.[0]).toBe('aXb');
  });
});
