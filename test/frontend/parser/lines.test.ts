import { describe, expect, test } from '@jest/globals';
import { dumpAST, parseDockerfile, encodeUtf8Lossless } from '../../../src/frontend/dockerfile/parse.js';
import { UserInputError } from '../../../src/util/errors.js';

const parse = (s: string | Buffer) => parseDockerfile(s, { file: 'Dockerfile' });
const dump = (s: string | Buffer): string => dumpAST(parse(s));

function parseError(s: string | Buffer): UserInputError {
  try {
    parse(s);
  } catch (e) {
    if (e instanceof UserInputError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

describe('empty continuation lines (TestParseWarnsOnEmptyContinutationLine)', () => {
  const src = '\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment\n\t';

  test('two warnings, naming the joined instruction, at the first empty line', () => {
    const ast = parse(src);
    expect(ast.warnings).toHaveLength(2);
    expect(ast.warnings[0]?.message).toBe('Empty continuation line found in: RUN something     following     more');
    expect(ast.warnings[0]?.line).toBe(8);
    expect(ast.warnings[1]?.message).toBe('Empty continuation line found in: RUN another     thing');
    expect(ast.warnings[1]?.code).toBe('NoEmptyContinuation');
    expect(dumpAST(ast)).toContain('(run "non-indented    after-comment")\n(run "indented     comment")\n');
  });
});

describe('long lines (TestParseReturnsScannerErrors)', () => {
  test('a 65536-byte line is an error', () => {
    const e = parseError(`\n\t\tFROM image\n\t\tLABEL test=${'a'.repeat(65536)}\n`);
    expect(e.message).toBe('dockerfile line greater than max allowed size of 65535');
    expect(e.code).toBe('DOCKERFILE_PARSE');
    expect(e.location).toEqual({ file: 'Dockerfile', line: 3, column: 1 });
    expect(e.sourceLine?.length).toBeLessThan(1000);
  });
  test('65535 bytes is allowed; bytes, not characters, are counted', () => {
    expect(parse(`LABEL a=${'b'.repeat(65535 - 8)}`).children).toHaveLength(1);
    expect(() => parse(`LABEL a=${'é'.repeat(32764)}\n`)).toThrow(/greater than max allowed size/);
  });
});

describe('continuations and comments', () => {
  test('joining keeps the character before the escape and nothing else', () => {
    expect(dump('RUN a\\\nb \\  \n c\\\\\nRUN d\n')).toBe('(run "ab  c\\\\\\\\")\n(run "d")\n');
  });
  test('a comment line inside a continuation is dropped, also with a trailing escape', () => {
    expect(dump('RUN a \\\n  # c \\\nb\n')).toBe('(run "a b")\n');
  });
  test('# in the middle of a line is not a comment', () => {
    expect(dump('RUN echo foo # bar\n')).toBe('(run "echo foo # bar")\n');
  });
  test('a continuation at the end of the file ends the instruction', () => {
    expect(dump('FROM a\nRUN b \\')).toBe('(from "a")\n(run "b")\n');
  });
  test('a line that is only an escape starts an instruction with an empty keyword', () => {
    expect(dump('FROM a\n\\\n')).toBe('(from "a")\n("")\n');
  });
  test('CRLF line endings', () => {
    const ast = parse('FROM a\r\nRUN b \\\r\n  c\r\n');
    expect(dumpAST(ast)).toBe('(from "a")\n(run "b   c")\n');
    expect(ast.lines).toEqual(['FROM a', 'RUN b \\', '  c']);
  });
  test('comments directly above an instruction are kept; an empty # resets them', () => {
    const ast = parse('# stage one\n#  builds it  \nFROM a\n# x\n#\n# y\n\nRUN b\nRUN c\n');
    expect(ast.children.map((c) => c.comments)).toEqual([['stage one', 'builds it'], ['y'], []]);
  });
  test('instruction positions', () => {
    const ast = parse('FROM a\n\n   run  x \\\n\n  y\n');
    expect(ast.children[1]).toMatchObject({ keyword: 'run', startLine: 3, endLine: 5, column: 4, original: 'run  x   y' });
  });
});

describe('keywords, flags and arguments', () => {
  test('keywords are case-insensitive and kept as written', () => {
    const ast = parse('FrOm a\nworkdir /x\n');
    expect(ast.children.map((c) => c.keyword)).toEqual(['FrOm', 'workdir']);
    expect(dumpAST(ast)).toBe('(from "a")\n(workdir "/x")\n');
  });
  test('unknown instructions keep one empty argument', () => {
    expect(dump('FOO bar baz\nFOO\n')).toBe('(foo "")\n(foo "")\n');
  });
  test('every instruction', () => {
    const src = [
      'FROM --platform=linux/amd64 img:tag AS build', 'RUN a b', 'CMD ["c"]', 'LABEL k=v', 'MAINTAINER me <me@x>',
      'EXPOSE 80/tcp 443', 'ENV A=1 B=2', 'ADD --chown=1:1 a b /c/', 'COPY --from=build /x /y', 'ENTRYPOINT ["e", "f"]',
      'VOLUME /v /w', 'USER 1000:1000', 'WORKDIR /w d', 'ARG X=1 Y', 'ONBUILD RUN z', 'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=5s CMD curl -f x', 'SHELL ["/bin/bash", "-c"]',
    ].join('\n');
    expect(dump(src)).toBe([
      '(from ["--platform=linux/amd64"] "img:tag" "AS" "build")', '(run "a b")', '(cmd "c")', '(label "k" "v" "=")',
      '(maintainer "me <me@x>")', '(expose "80/tcp" "443")', '(env "A" "1" "=" "B" "2" "=")', '(add ["--chown=1:1"] "a" "b" "/c/")',
      '(copy ["--from=build"] "/x" "/y")', '(entrypoint "e" "f")', '(volume "/v" "/w")', '(user "1000:1000")', '(workdir "/w d")',
      '(arg "X=1" "Y")', '(onbuild (run "z"))', '(stopsignal "SIGTERM")', '(healthcheck ["--interval=5s"] "CMD" "curl -f x")',
      '(shell "/bin/bash" "-c")', '',
    ].join('\n'));
  });
  test('flag words: quotes removed, escapes honoured, `--` ends flags', () => {
    const ast = parse('RUN --mount=type=bind,source="a b" --x=\'c\\\'d\' --e\\ f -- --not-a-flag g\n');
    expect(ast.children[0]?.flags).toEqual(['--mount=type=bind,source=a b', "--x=c'd", '--e f']);
    expect(ast.children[0]?.args).toEqual(['--not-a-flag g']);
    expect(dump('# escape=`\nCOPY --a=`"q`" --b="x`"y" s d\n')).toBe('(copy ["--a=\\"q\\"" "--b=x\\"y"] "s" "d")\n');
    expect(dump('CMD --x\nCMD --\n')).toBe('(cmd ["--x"])\n(cmd)\n');
  });
  test('ONBUILD nests, with flags on either level, and deep nesting does not recurse', () => {
    expect(dump('ONBUILD --a COPY --from=x a b\nONBUILD\n')).toBe('(onbuild ["--a"] (copy ["--from=x"] "a" "b"))\n(onbuild)\n');
    const deep = parse(`${'ONBUILD \\\n'.repeat(20000)}RUN x\n`);
    let depth = 0;
    for (let n = deep.children[0]; n?.onbuild; n = n.onbuild) depth++;
    expect(depth).toBe(20000);
    expect(dumpAST(deep)).toBe(`${'(onbuild '.repeat(20000)}(run "x")${')'.repeat(20000)}\n`);
  });
  test('a 64 KiB line of ONBUILDs parses', () => {
    const ast = parse(`${'ONBUILD '.repeat(8000)}RUN x\n`);
    let n = ast.children[0];
    for (let i = 0; i < 8000; i++) n = n?.onbuild;
    expect(n).toMatchObject({ keyword: 'RUN', args: ['x'], column: 64001 });
  });
  test('HEALTHCHECK keeps its type word as written', () => {
    expect(dump('HEALTHCHECK none\nHEALTHCHECK\nHEALTHCHECK CMD\n')).toBe('(healthcheck "none")\n(healthcheck)\n(healthcheck "CMD")\n');
  });
  test('Go case mapping: İ lowers to i, K (Kelvin) to k', () => {
    expect(dump('\u212aEEP x\nİ y\n')).toBe('(keep "")\n(i "")\n');
  });
});

describe('bytes and quoting in the dump', () => {
  test('invalid UTF-8 bytes are kept and dumped as \\x escapes', () => {
    const src = Buffer.from([...Buffer.from('RUN a'), 0xff, 0xe2, 0x82, ...Buffer.from(' \u00a0\u00ad\x7f\u{1f600}\n')]);
    const ast = parse(src);
    expect(dumpAST(ast)).toBe('(run "a\\xff\\xe2\\x82 \\u00a0\\u00ad\\x7f😀")\n');
    expect(encodeUtf8Lossless(ast.children[0]?.args[0] ?? '')).toEqual(src.subarray(4, src.length - 1));
  });
  test('strings and buffers parse alike', () => {
    const text = 'FROM a\nRUN ♥ \\\n  x\n';
    expect(parse(text)).toEqual(parse(Buffer.from(text)));
  });
});

describe('errors', () => {
  test('a file with only comments has no instructions', () => {
    const e = parseError('# Hello\n# These are just comments\n\n');
    expect(e.message).toBe('file with no instructions');
    expect(e.location).toEqual({ file: 'Dockerfile', line: 3, column: 1 });
  });
  test('columns count characters, not UTF-16 units', () => {
    expect(parseError('CMD ["😀", 1]\n').location?.column).toBe(11);
    expect(parseError('ENV a=😀😀 y\n').location?.column).toBe(10);
  });
});
