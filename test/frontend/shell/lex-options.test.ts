/**
 * The lexer beyond the upstream tables: the raw/skip options the parser and converter rely on, the
 * backtick escape token, Go replacement semantics of `${v//p/r}`, and error reporting.
 */
import { describe, expect, test } from '@jest/globals';
import { emptyEnv, envFromRecord, ShellExpansionError, ShellLex } from '../../../src/frontend/dockerfile/shell/index.js';

const lex = new ShellLex({ escapeToken: '\\' });
const env = (rec: Record<string, string>) => envFromRecord(rec);

describe('options', () => {
  test('rawQuotes keeps quotes (heredoc detection: <<"EOF" stays recognisable)', () => {
    const raw = lex.with({ rawQuotes: true });
    expect(raw.processWords(`cat <<"EOF" 'a b'`, emptyEnv)).toEqual(['cat', '<<"EOF"', "'a b'"]);
    expect(lex.processWords(`cat <<"EOF" 'a b'`, emptyEnv)).toEqual(['cat', '<<EOF', 'a b']);
  });

  test('skipUnsetEnv leaves references to unset variables exactly as written', () => {
    const skip = lex.with({ skipUnsetEnv: true });
    expect(skip.processWord('$X ${Y} ${Z:-a} ${W/a/b} ${V%x}', emptyEnv)).toBe('$X ${Y} ${Z:-a} ${W/a/b} ${V%x}');
    expect(skip.processWord('$X ${Y} ${Z:-a}', env({ X: '1', Y: '2', Z: '' }))).toBe('1 2 a');
  });

  test('skipProcessQuotes expands inside quotes and keeps them (COPY heredoc bodies)', () => {
    const raw = lex.with({ skipProcessQuotes: true });
    expect(raw.processWord(`'$A' "x" \\$A`, env({ A: '1' }))).toBe(`'1' "x" $A`);
  });

  test('rawEscapes keeps the escape token', () => {
    expect(lex.with({ rawEscapes: true }).processWord('a\\$b \\c', env({ b: 'B' }))).toBe('a\\$b \\c');
    expect(lex.processWord('a\\$b \\c', env({ b: 'B' }))).toBe('a$b c');
  });

  test('backtick escape token (# escape=`): backslash is an ordinary character', () => {
    const tick = new ShellLex({ escapeToken: '`' });
    expect(tick.processWord('a`$b\\c', emptyEnv)).toBe('a$b\\c');
    expect(tick.processWord('"q`"x" C:\\dir', emptyEnv)).toBe('q"x C:\\dir');
  });

  test('one instance is stateless and reusable', () => {
    const e = env({ A: 'x' });
    expect(lex.processWord('$A', e)).toBe('x');
    expect(() => lex.processWord('${', e)).toThrow(ShellExpansionError);
    expect(lex.processWord('$A$A', e)).toBe('xx');
  });
});

describe('expansion details', () => {
  test('${v//*/r} replaces once, as Go ReplaceAllString does (no extra empty match at the end)', () => {
    expect(lex.processWord('${X//*/y}', env({ X: 'abc' }))).toBe('y');
    expect(lex.processWord('${X//?/-}', env({ X: 'ab' }))).toBe('--');
    expect(lex.processWord('${X//b*/-}', env({ X: 'abcb' }))).toBe('a-');
  });

  test('an empty pattern matches between every character with //, once at the start with /', () => {
    expect(lex.processWord('${X//$E/-}', env({ X: 'ab', E: '' }))).toBe('-a-b-');
    expect(lex.processWord('${X/$E/-}', env({ X: 'ab', E: '' }))).toBe('-ab');
  });

  test('replacements keep escapes; with // a $0 template is the match (BuildKit quirk)', () => {
    expect(lex.processWord('${X//b/\\$0}', env({ X: 'abc' }))).toBe('a\\bc');
    expect(lex.processWord('${X/b/\\$0}', env({ X: 'abc' }))).toBe('a\\$0c');
  });

  test('brackets in # % / patterns are literal, not classes', () => {
    expect(lex.processWord('${X#[a]}', env({ X: '[a]b' }))).toBe('b');
    expect(lex.processWord('${X#[a]}', env({ X: 'ab' }))).toBe('ab');
  });

  test('shortest and longest prefix/suffix', () => {
    const e = env({ P: 'a/b/c.tar.gz' });
    expect(lex.processWord('${P#*/}', e)).toBe('b/c.tar.gz');
    expect(lex.processWord('${P##*/}', e)).toBe('c.tar.gz');
    expect(lex.processWord('${P%.*}', e)).toBe('a/b/c.tar');
    expect(lex.processWord('${P%%.*}', e)).toBe('a/b/c');
  });

  test('names may be Unicode letters; $ before a non-name is literal', () => {
    expect(lex.processWord('$안녕-$.-$', env({ 안녕: 'x' }))).toBe('x-$.-$');
  });

  test('matched and unmatched names are reported', () => {
    const r = lex.processWordWithMatches('$A ${B:-$C} ${D+x}', env({ A: '1', D: '' }));
    expect(r.result).toBe('1  x');
    expect([...r.matched].sort()).toEqual(['A', 'D']);
    expect([...r.unmatched].sort()).toEqual(['B', 'C']);
  });

  test('processWords keeps text before a nested modifier word', () => {
    expect(lex.processWords('hello${X:-a b} c', emptyEnv)).toEqual(['helloa', 'b', 'c']);
  });

  test('processWords of nothing is no words; quoted empty strings make no word', () => {
    expect(lex.processWords('', emptyEnv)).toEqual([]);
    expect(lex.processWords('"" a', emptyEnv)).toEqual(['a']);
    expect(lex.processWords('${S}', env({ S: '  ' }))).toEqual([]);
  });
});

describe('errors', () => {
  const failure = (word: string, e: ReturnType<typeof env> = emptyEnv): ShellExpansionError => {
    try {
      lex.processWord(word, e);
    } catch (err) {
      if (err instanceof ShellExpansionError) return err;
      throw err;
    }
    throw new Error(`no error for ${word}`);
  };

  test.each([
    ['${aaa', "syntax error: missing '}'"],
    ['${aaa:-b', "syntax error: missing '}'"],
    ['${}', 'syntax error: bad substitution'],
    ['${X:=1}', 'unsupported modifier (:=) in substitution'],
    ['${X:#a}', 'unsupported modifier (:#) in substitution'],
    ['${X/a', "syntax error: missing '/' in ${}"],
    ['"abc', 'unexpected end of statement while looking for matching double-quote'],
    ["'abc", 'unexpected end of statement while looking for matching single-quote'],
    ['${X?}', 'X: is not allowed to be unset'],
    ['${X#\\x}', 'invalid pattern (\\x) in substitution: invalid escape'],
  ])('%s: %s', (word, reason) => {
    const e = failure(word);
    expect(e.reason).toContain(reason);
    expect(e.message).toBe(`failed to process ${JSON.stringify(word)}: ${e.reason}`);
    expect(e.code).toBe('SHELL_EXPANSION');
  });

  test('${X:?msg} with X empty carries the expanded message', () => {
    const e = failure('${X:?need $WHAT}', env({ X: '', WHAT: 'a value' }));
    expect(e.reason).toBe('X: need a value');
  });

  test('at() locates the error for the CLI', () => {
    const e = failure('${X?boom}').at({ file: 'Dockerfile', line: 3, column: 5 }, 'WORKDIR ${X?boom}');
    expect(e).toBeInstanceOf(ShellExpansionError);
    expect(e.describe()).toBe('Dockerfile:3:5: failed to process "${X?boom}": X: boom');
    expect(e.sourceLine).toBe('WORKDIR ${X?boom}');
  });
});
