import { describe, expect, test } from '@jest/globals';
import { DirectiveParser } from '../../../src/frontend/dockerfile/directives.js';
import { detectSyntax, dumpAST, parseDirective, parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { UserInputError } from '../../../src/util/errors.js';

const parse = (s: string | Buffer) => parseDockerfile(s, { file: 'Dockerfile' });

function parseError(s: string): UserInputError {
  try {
    parse(s);
  } catch (e) {
    if (e instanceof UserInputError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

describe('DirectiveParser (TestDirectives)', () => {
  const all = (text: string) => {
    const p = new DirectiveParser();
    const out = [];
    for (const l of text.split('\n')) {
      if (p.finished) break;
      const d = p.parseLine(l);
      if (d) out.push({ name: d.name, value: d.value });
    }
    return out;
  };
  test('an unknown key ends the directives', () => {
    expect(all('#escape=\\\n# key = FOO bar\n\n# smth\n')).toEqual([{ name: 'escape', value: '\\' }]);
  });
  test('keys are case-insensitive', () => {
    expect(all('# EScape=\\\n# KEY = FOO bar\n\n# smth\n')).toEqual([{ name: 'escape', value: '\\' }]);
  });
});

describe('DetectSyntax and ParseDirective', () => {
  test.each([
    ['# syntax = dockerfile:experimental // opts\nFROM busybox\n', { ref: 'dockerfile:experimental', cmdline: 'dockerfile:experimental // opts', line: 1 }],
    ['#!/bin/sh\n# syntax = dockerfile:experimental\nFROM busybox\n', { ref: 'dockerfile:experimental', cmdline: 'dockerfile:experimental', line: 2 }],
    ['//syntax=foo\n//key=value', { ref: 'foo', cmdline: 'foo', line: 1 }],
    ['#!/bin/sh\n//syntax=x', { ref: 'x', cmdline: 'x', line: 2 }],
    ['{"syntax": "foo", "bar": ["abc"]}', { ref: 'foo', cmdline: 'foo', line: 0 }],
    ['\ufeff# syntax = myfrontend\nFROM busybox\n', { ref: 'myfrontend', cmdline: 'myfrontend', line: 1 }],
  ])('detects %j', (src, want) => {
    expect(detectSyntax(src)).toEqual(want);
  });
  test.each([
    '#!/bin/sh\n\n# syntax = dockerfile:experimental\n',
    'FROM busybox\nRUN ls\n',
    '{"syntax": "foo"',
    '{"syntax": "foo"}\n# syntax=bar',
  ])('does not detect %j', (src) => {
    expect(detectSyntax(src)).toBeUndefined();
  });
  test('ParseDirective("check") only reads #-comments', () => {
    expect(parseDirective('check', '#check = skip=all // opts\nFROM busybox\n')).toEqual({ ref: 'skip=all', cmdline: 'skip=all // opts', line: 1 });
    expect(parseDirective('check', '#!/bin/sh\n# check = skip=all\nFROM busybox\n')).toEqual({ ref: 'skip=all', cmdline: 'skip=all', line: 2 });
    expect(parseDirective('check', '#!/bin/sh\n\n# check = skip=all\n')).toBeUndefined();
    expect(parseDirective('check', 'FROM busybox\nRUN ls\n')).toBeUndefined();
    expect(parseDirective('check', '//check=skip=all\n//key=value')).toBeUndefined();
  });
});

describe('directives in a Dockerfile', () => {
  test('all three are recorded with their lines, and the escape token applies', () => {
    const ast = parse('# syntax=docker/dockerfile:1\n#  CHECK = skip=all\n  # escape = `\nFROM a\nRUN x `\n  y\n');
    expect(ast.directives).toEqual([
      { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
      { name: 'check', value: 'skip=all', line: 2 },
      { name: 'escape', value: '`', line: 3 },
    ]);
    expect(ast.escapeToken).toBe('`');
    expect(dumpAST(ast)).toBe('(from "a")\n(run "x   y")\n');
  });

  test('after a blank line, a comment or an instruction, directives are comments', () => {
    expect(parse('\n# escape=`\nFROM a\n').escapeToken).toBe('\\');
    expect(parse('# hello\n# escape=`\nFROM a\n').directives).toEqual([]);
    expect(parse('FROM a\n# escape=`\n').directives).toEqual([]);
  });

  test('a repeated directive is an error at its key', () => {
    const e = parseError('# syntax=a\n# Syntax=b\nFROM a\n');
    expect(e.message).toBe('only one syntax parser directive can be used');
    expect(e.location).toEqual({ file: 'Dockerfile', line: 2, column: 3 });
    expect(e.sourceLine).toBe('# Syntax=b');
  });

  test('an invalid escape token is an error at its value', () => {
    const e = parseError('#escape = x\nFROM a\n');
    expect(e.message).toBe("invalid escape token 'x' does not match ` or \\");
    expect(e.location).toEqual({ file: 'Dockerfile', line: 1, column: 11 });
  });

  test('only blanks after = still make a value (BuildKit\'s lazy regexp)', () => {
    expect(parseError('# escape=  \nFROM a\n').message).toBe("invalid escape token ' ' does not match ` or \\");
  });

  test('a UTF-8 BOM is ignored', () => {
    const ast = parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('# escape=`\nFROM a\n')]));
    expect(ast.escapeToken).toBe('`');
    expect(ast.lines[0]).toBe('# escape=`');
  });

  // BuildKit's regexp backtracks quadratically here; the hand-written matcher must not hang.
  test('a directive line of 64 KiB of blanks does not hang', () => {
    expect(parse(`# syntax=a${' '.repeat(60000)}b${' '.repeat(5000)}\nFROM a\n`).directives[0]?.value).toBe(`a${' '.repeat(60000)}b`);
  }, 5000);
});
