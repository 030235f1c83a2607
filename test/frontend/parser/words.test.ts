import { describe, expect, test } from '@jest/globals';
import { parseWords } from '../../../src/frontend/dockerfile/line-parsers.js';
import { dumpAST, parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { UserInputError } from '../../../src/util/errors.js';

const dump = (s: string): string => dumpAST(parseDockerfile(s, { file: 'Dockerfile' }));

describe('parseWords (TestParseWords table)', () => {
  const cases: Array<[string, string[]]> = [
    ['foo', ['foo']],
    ['foo bar', ['foo', 'bar']],
    ['foo\\ bar', ['foo\\ bar']],
    ['foo=bar', ['foo=bar']],
    ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
    ['foo bar "abc xyz"', ['foo', 'bar', '"abc xyz"']],
    ['àöû', ['àöû']],
    ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
  ];
  test.each(cases)('%j', (input, want) => {
    expect(parseWords(input, '\\').map((w) => w.value)).toEqual(want);
  });

  test('escapes, quotes and the trailing escape token', () => {
    expect(parseWords('a\\ b "c \\" d" \'e \\\' f', '\\').map((w) => w.value)).toEqual(['a\\ b', '"c \\" d"', "'e \\'", 'f']);
    expect(parseWords('x \\', '\\').map((w) => w.value)).toEqual(['x']);
    expect(parseWords('"open\\', '\\').map((w) => w.value)).toEqual(['"open']);
    expect(parseWords('a` b', '`').map((w) => w.value)).toEqual(['a` b']);
    expect(parseWords('a\u00a0b\u3000c', '\\').map((w) => [w.value, w.offset])).toEqual([['a', 0], ['b', 2], ['c', 4]]);
  });
});

describe('ENV, LABEL and ARG (line_parsers_test.go)', () => {
  test('old and new forms', () => {
    expect(dump('LABEL foo bar\n')).toBe('(label "foo" "bar" "")\n');
    expect(dump('LABEL foo=bar thing=star\n')).toBe('(label "foo" "bar" "=" "thing" "star" "=")\n');
    expect(dump('ENV A  b  c\n')).toBe('(env "A" "b  c" "")\n');
    expect(dump('ARG foo bar=baz\n')).toBe('(arg "foo" "bar=baz")\n');
    expect(dump('ENV\n')).toBe('(env)\n');
  });

  test('ENV with one word is an error pointing after it', () => {
    let err: unknown;
    try {
      parseDockerfile('FROM busybox\n\nENV PATH\n', { file: 'df' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as UserInputError).message).toBe('ENV must have two arguments');
    expect((err as UserInputError).location).toEqual({ file: 'df', line: 3, column: 9 });
  });

  test('a new-form word without = is an error at that word', () => {
    let err: unknown;
    try {
      parseDockerfile('LABEL a=b  "c d"\n', { file: 'df' });
    } catch (e) {
      err = e;
    }
    expect((err as UserInputError).message).toBe('Syntax error - can\'t find = in "\\"c d\\"". Must be of the form: name=value');
    expect((err as UserInputError).location).toEqual({ file: 'df', line: 1, column: 12 });
  });
});
