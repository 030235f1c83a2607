import { describe, expect, test } from '@jest/globals';
import { goJsonUnquote, parseExecForm } from '../../../src/frontend/dockerfile/exec-form.js';
import { dumpAST, parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { UserInputError } from '../../../src/util/errors.js';

const dump = (s: string): string => dumpAST(parseDockerfile(s, { file: 'Dockerfile' }));

describe('JSON arrays of strings (json_test.go table)', () => {
  const valid: Array<[string, string[]]> = [
    ['[]', []],
    ['[""]', ['']],
    ['["a"]', ['a']],
    ['["a","b"]', ['a', 'b']],
    ['[ "a", "b" ]', ['a', 'b']],
    ['[\t"a",\t"b"\t]', ['a', 'b']],
    ['\t[\t"a",\t"b"\t]\t', ['a', 'b']],
    ['["abc 123", "♥", "☃", "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000"]', ['abc 123', '♥', '☃', '" \\ / \b \f \n \r \t \u0000']],
  ];
  test.each(valid)('%j is valid', (src, want) => {
    expect(parseExecForm(src)).toEqual({ kind: 'json', values: want });
  });

  const invalid = ['["a",42,"b"]', '["a",123.456,"b"]', '["a",{},"b"]', '["a",{"c": "d"},"b"]', '["a",["c"],"b"]', '["a",true,"b"]', '["a",false,"b"]', '["a",null,"b"]'];
  test.each(invalid)('%s has a non-string element', (src) => {
    expect(parseExecForm(src)).toEqual({ kind: 'nonString', offset: 5 });
  });
});

describe('JSON string elements decode like JSON.parse', () => {
  // Elements without escapes or surrogates are sliced out as they are (goJsonUnquote's shortcut);
  // the others go through the decoding loop. Both against JSON.parse, on well-formed strings.
  test('3000 random strings, with and without escapes, of every length class', () => {
    const pool = ['a', 'Z', ' ', '0', '/', '-', '"', '\\', '\n', '\t', '\u0001', 'é', '€', '\u{1F600}', '\u2028'];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let k = 0; k < 3000; k++) {
      let s = '';
      const len = rand(k % 3 === 0 ? 60 : 15);
      for (let i = 0; i < len; i++) s += pool[rand(k % 2 === 0 ? 6 : pool.length)] as string;
      const image = JSON.stringify(s);
      expect(goJsonUnquote(image)).toBe(JSON.parse(image) as string);
    }
  });
});

describe('exec form vs shell form', () => {
  test.each([
    ['single quotes', "CMD ['a']", `(cmd "['a']")`],
    ['text after the array', 'CMD ["a"] b', '(cmd "[\\"a\\"] b")'],
    ['unterminated array', 'RUN ["a"', '(run "[\\"a\\"")'],
    ['unterminated string', 'RUN ["a]', '(run "[\\"a]")'],
    ['trailing comma', 'RUN ["a",]', '(run "[\\"a\\",]")'],
    ['vertical tab is not JSON whitespace', 'RUN [\v"a"]', '(run "[\\v\\"a\\"]")'],
    ['raw control character in a string', 'RUN ["a\tb"]', '(run "[\\"a\\tb\\"]")'],
    ['bad escape', 'RUN ["\\x"]', '(run "[\\"\\\\x\\"]")'],
    ['number overflowing float64 (Go fails to decode it)', 'RUN [1e999]', '(run "[1e999]")'],
    ['COPY falls back to a whitespace list', 'COPY ["a" "b"] /x', '(copy "[\\"a\\"" "\\"b\\"]" "/x")'],
  ])('%s', (_name, src, want) => {
    expect(dump(`${src}\n`)).toBe(`${want}\n`);
  });

  test('unpaired surrogate escapes and invalid bytes decode to U+FFFD, as Go does', () => {
    expect(parseExecForm('["\\ud800x", "\\ud83d\\ude00", "\\udc00\\ud800"]')).toEqual({ kind: 'json', values: ['\ufffdx', '😀', '\ufffd\ufffd'] });
    const ast = parseDockerfile(Buffer.from([...Buffer.from('CMD ["a'), 0xff, ...Buffer.from('"]\n')]), { file: 'Dockerfile' });
    expect(ast.children[0]?.args).toEqual(['a\ufffd']);
  });

  test('a non-string element is an error located at the element', () => {
    let err: unknown;
    try {
      parseDockerfile('FROM a\nCMD [ "echo", \\\n  [ "nested json" ] ]\n', { file: 'Dockerfile' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    const u = err as UserInputError;
    expect(u.message).toBe('when using JSON array syntax, arrays must be comprised of strings only');
    expect(u.location).toEqual({ file: 'Dockerfile', line: 3, column: 3 });
    expect(u.sourceLine).toBe('  [ "nested json" ] ]');
  });

  test('deep nesting: valid → error, beyond Go\'s limit → shell form, never a stack overflow', () => {
    const deep = (n: number): string => `["a",${'['.repeat(n)}${']'.repeat(n)}]`;
    expect(parseExecForm(deep(3)).kind).toBe('nonString');
    expect(parseExecForm(deep(5000))).toEqual({ kind: 'nonString', offset: 5 });
    // The outer array counts: 1 + 9999 levels is Go's maximum of 10000.
    expect(parseExecForm(deep(9999)).kind).toBe('nonString');
    expect(parseExecForm(deep(10000)).kind).toBe('notJson');
    expect(parseExecForm(`["a",${'['.repeat(5000)}]`).kind).toBe('notJson');
  });

  test('JSON form is remembered and empty arrays give no arguments', () => {
    const ast = parseDockerfile('CMD []\nCMD ["a"]\nCMD a\nHEALTHCHECK CMD ["x"]\n', { file: 'Dockerfile' });
    expect(ast.children.map((c) => [c.args, c.json])).toEqual([[[], true], [['a'], true], [['a'], false], [['CMD', 'x'], true]]);
  });
});
