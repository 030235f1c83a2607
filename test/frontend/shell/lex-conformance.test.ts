/**
 * BuildKit's shell-lexer conformance data (anchors/buildkit-shell-lex, FORMAT.md): every Unix case of
 * envVarTest and wordsTest, the ProcessWithMatches table, and the smaller Go tables of lex_test.go.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anchorsDir } from '../../helpers/paths.js';
import { describeIf } from '../../helpers/skip.js';
import { envFromList, envFromRecord } from '../../../src/frontend/dockerfile/shell/env.js';
import { ShellExpansionError } from '../../../src/frontend/dockerfile/shell/errors.js';
import { ShellLex } from '../../../src/frontend/dockerfile/shell/lex.js';
import {
  reversePattern,
  shellPatternToRegexpSource,
  ShellPatternError,
} from '../../../src/frontend/dockerfile/shell/shell-pattern.js';

const dir = join(anchorsDir, 'buildkit-shell-lex');
const envVarFile = join(dir, 'envVarTest');
const wordsFile = join(dir, 'wordsTest');
const matchesFile = join(dir, 'lex_test.ProcessWithMatches.cases.json');
const lex = new ShellLex({ escapeToken: '\\' });

interface EnvVarCase { line: number; platform: string; source: string; expected: string }

function envVarCases(): EnvVarCase[] {
  const out: EnvVarCase[] = [];
  readFileSync(envVarFile, 'utf8').split('\n').forEach((raw, i) => {
    if (raw.startsWith('#')) return;
    const line = raw.trim();
    if (line === '') return;
    const fields = line.split('|');
    if (fields.length !== 3) throw new Error(`envVarTest:${i + 1}: expected 3 fields`);
    const [platform, source, expected] = fields.map((f) => f.trim()) as [string, string, string];
    out.push({ line: i + 1, platform, source, expected });
  });
  return out;
}

describeIf(existsSync(envVarFile), `no ${envVarFile}`, 'envVarTest (ProcessWord)', () => {
  const all = envVarCases();
  const unix = all.filter((c) => c.platform === 'A' || c.platform === 'U');
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);

  test('the file has 230 cases, 228 of them for Unix, and only A/U/W tags', () => {
    expect(all).toHaveLength(230);
    expect(unix).toHaveLength(228);
    expect(all.every((c) => ['A', 'U', 'W'].includes(c.platform))).toBe(true);
  });

  test.each(unix.map((c) => [c.line, c.source, c.expected === 'error' ? 'error' : JSON.stringify(c.expected), c] as const))(
    'line %i: %s → %s',
    (_l, _s, _e, c) => {
      if (c.expected === 'error') {
        expect(() => lex.processWord(c.source, env)).toThrow(ShellExpansionError);
      } else {
        expect(lex.processWord(c.source, env)).toBe(c.expected);
      }
    },
  );
});

interface WordsCase { line: number; input: string; expected: string[]; env: string[] }

function wordsCases(): WordsCase[] {
  const out: WordsCase[] = [];
  const env: string[] = [];
  readFileSync(wordsFile, 'utf8').split('\n').forEach((line, i) => {
    if (i === 0 && line === '') return;
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    if (line === '') return; // the split leaves one empty string after the final newline
    const parts = line.split('|');
    if (parts.length !== 2) throw new Error(`wordsTest:${i + 1}: expected one |`);
    out.push({
      line: i + 1,
      input: (parts[0] ?? '').trim(),
      expected: (parts[1] ?? '').replace(/^ +/, '').split(','),
      env: [...env],
    });
  });
  return out;
}

describeIf(existsSync(wordsFile), `no ${wordsFile}`, 'wordsTest (ProcessWords)', () => {
  const cases = wordsCases();
  test('the file has 24 cases', () => expect(cases).toHaveLength(24));
  test.each(cases.map((c) => [c.line, c.input, c.expected.join(','), c] as const))('line %i: %s → %s', (_l, _i, _e, c) => {
    let words: string[];
    try {
      words = lex.processWords(c.input, envFromList(c.env));
    } catch (e) {
      expect(e).toBeInstanceOf(ShellExpansionError);
      words = ['error'];
    }
    expect(words).toEqual(c.expected);
  });
});

interface MatchesCase {
  input: string;
  envs: Record<string, string>;
  expected: string;
  expectedErr: boolean;
  matches: string[];
  unmatched: string[];
}

const matchCases: MatchesCase[] = existsSync(matchesFile)
  ? (JSON.parse(readFileSync(matchesFile, 'utf8')) as { cases: MatchesCase[] }).cases
  : [];

describeIf(existsSync(matchesFile), `no ${matchesFile}`, 'TestProcessWithMatches', () => {
  test('the table has 47 cases', () => expect(matchCases).toHaveLength(47));
  test.each(matchCases.map((c, i) => [i + 1, c.input, JSON.stringify(c.envs), c] as const))('#%i %s with %s', (_n, _i, _e, c) => {
    if (c.expectedErr) {
      expect(() => lex.processWordWithMatches(c.input, envFromRecord(c.envs))).toThrow(ShellExpansionError);
      return;
    }
    const r = lex.processWordWithMatches(c.input, envFromRecord(c.envs));
    expect(r.result).toBe(c.expected);
    expect([...r.matched].sort()).toEqual([...c.matches].sort());
    expect([...r.unmatched].sort()).toEqual([...c.unmatched].sort());
  });
});

describe('TestShellParserMandatoryEnvVars', () => {
  const words = ['${VAR:?message here$ARG}', '${VAR?message here$ARG}'];
  test.each(words)('%s with VAR=plain', (w) => {
    expect(lex.processWord(w, envFromList(['VAR=plain', 'ARG=x']))).toBe('plain');
  });
  test('${VAR:?…} with VAR empty fails with the expanded message', () => {
    expect(() => lex.processWord(words[0] ?? '', envFromList(['VAR=', 'ARG=x']))).toThrow('message herex');
  });
  test('${VAR?…} with VAR empty gives ""', () => {
    expect(lex.processWord(words[1] ?? '', envFromList(['VAR=', 'ARG=x']))).toBe('');
  });
  test.each(words)('%s with VAR unset fails with the expanded message', (w) => {
    let err: unknown;
    try {
      lex.processWord(w, envFromList(['ARG=x']));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShellExpansionError);
    expect((err as ShellExpansionError).reason).toBe('VAR: message herex');
    expect((err as ShellExpansionError).code).toBe('SHELL_EXPANSION');
  });
});

describe('TestProcessWithMatchesPlatform', () => {
  const word = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
  test('linux/arm/v7', () => {
    const env = envFromRecord({ VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' });
    expect(lex.processWordWithMatches(word, env).result).toBe('something-v1.2.3.linux-arm-v7.tar.gz');
  });
  test('linux/arm64 with an empty variant', () => {
    const env = envFromRecord({ VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: '' });
    expect(lex.processWordWithMatches(word, env).result).toBe('something-v1.2.3.linux-arm64.tar.gz');
  });
  test('linux/arm64 with the variant unset', () => {
    const env = envFromRecord({ VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm64' });
    expect(lex.processWordWithMatches(word, env).result).toBe('something-v1.2.3.linux-arm64.tar.gz');
  });
});

describe('TestGetEnv', () => {
  test('empty env', () => expect(envFromList([])('foo')).toBeUndefined());
  test('"foo" without = is set to empty', () => expect(envFromList(['foo'])('foo')).toBe(''));
  test('"foo="', () => expect(envFromList(['foo='])('foo')).toBe(''));
  test('"foo=bar"', () => expect(envFromList(['foo=bar'])('foo')).toBe('bar'));
  test('duplicates: the last one wins', () => expect(envFromList(['car=hat', 'car=bike'])('car')).toBe('bike'));
});

describe('TestConvertShellPatternToRegex', () => {
  const conv = (p: string): string => shellPatternToRegexpSource(p, { greedy: true, anchored: true });
  test.each([
    ['*', '^.*'],
    ['?', '^.'],
    ['\\*', '^\\*'],
    ['(()[]{\\}^$.\\*\\?|\\\\', '^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\'],
  ])('%s → %s', (p, expected) => expect(conv(p)).toBe(expected));
  test.each(['\\', '\\x', '\\\\\\'])('%s is invalid', (p) => expect(() => conv(p)).toThrow(ShellPatternError));
});

describe('TestReversePattern', () => {
  test.each([
    ['a\\*c', 'c\\*a'],
    ['\\\\\\ab', 'b\\a\\\\'],
    ['ab\\', '\\ba'],
    ['👽\\🚀🖖', '🖖\\🚀👽'],
    ['\\\\b', 'b\\\\'],
  ])('%s → %s', (p, expected) => expect(reversePattern(p)).toBe(expected));
});
