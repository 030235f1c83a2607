/** Reading ignore files (CASES.md A6) and the Go string/path helpers they rely on. */
import { describe, expect, test } from '@jest/globals';
import { PatternSyntaxError, readIgnoreFile, readIgnoreFileEntries } from '../../../src/util/pattern-matcher/index.js';
import { compareGoStrings, goClean, goDir, goTrimSpace } from '../../../src/util/pattern-matcher/go-compat.js';

describe('A6 ignorefile.ReadAll', () => {
  test('no file gives no patterns', () => {
    expect(readIgnoreFile(undefined)).toEqual([]);
    expect(readIgnoreFile('')).toEqual([]);
  });

  test('TestReadAll', () => {
    const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
    expect(readIgnoreFile(text)).toEqual(['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
  });

  test('line numbers are kept for error messages', () => {
    expect(readIgnoreFileEntries('# c\n\nfoo\n  bar  \n')).toEqual([
      { pattern: 'foo', line: 3 },
      { pattern: 'bar', line: 4 },
    ]);
  });

  test('a UTF-8 BOM on the first line is dropped, elsewhere it is kept', () => {
    expect(readIgnoreFile('\uFEFF./Dockerfile\n')).toEqual(['Dockerfile']);
    expect(readIgnoreFile('a\n\uFEFFb')).toEqual(['a', '\uFEFFb']);
  });

  test('# only starts a comment in column 0', () => {
    expect(readIgnoreFile('#1\n  #2\n')).toEqual(['#2']);
  });

  test('CRLF line ends, cleaning and one leading slash removed', () => {
    expect(readIgnoreFile('./foo\r\ndir1//foo\r\n./dir1/../foo2\r\n//x\r\n/\r\n')).toEqual(['foo', 'dir1/foo', 'foo2', 'x', '/']);
  });

  test('a line of 64 KiB is refused like Go bufio.Scanner does', () => {
    expect(readIgnoreFile(`${'a'.repeat(65535)}\n`)).toHaveLength(1);
    expect(() => readIgnoreFile(`${'a'.repeat(65536)}\n`)).toThrow(PatternSyntaxError);
  });
});

describe('Go helpers', () => {
  test.each([
    ['', '.'],
    ['.', '.'],
    ['a/', 'a'],
    ['a//b', 'a/b'],
    ['./a/./b/', 'a/b'],
    ['a/b/../c', 'a/c'],
    ['a/../..', '..'],
    ['../../a', '../../a'],
    ['/../a', '/a'],
    ['/', '/'],
    ['//', '/'],
    ['abc/def/../../..', '..'],
    ['!./foo', '!./foo'],
  ])('goClean(%j) = %j', (input, expected) => expect(goClean(input)).toBe(expected));

  test.each([
    ['file', '.'],
    ['file/', 'file'],
    ['a/b/c', 'a/b'],
    ['/', '/'],
    ['/a', '/'],
  ])('goDir(%j) = %j', (input, expected) => expect(goDir(input)).toBe(expected));

  test('goTrimSpace trims Unicode White_Space but not U+FEFF', () => {
    expect(goTrimSpace('\u0085\u00A0 x \u3000\t')).toBe('x');
    expect(goTrimSpace('\uFEFFx')).toBe('\uFEFFx');
  });

  test('compareGoStrings orders by code point, not UTF-16 unit', () => {
    const astral = '\u{1F600}';
    const high = '\uFF01';
    expect([astral, high].sort(compareGoStrings)).toEqual([high, astral]);
    expect(['b', 'a', 'ab', ''].sort(compareGoStrings)).toEqual(['', 'a', 'ab', 'b']);
  });
});
