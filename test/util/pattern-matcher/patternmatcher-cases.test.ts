/**
 * moby/patternmatcher's unit tables (anchors/dockerignore/patternmatcher-cases.json, CASES.md §A),
 * each row checked every way CASES.md says.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anchorsDir } from '../../helpers/paths.js';
import { describeIf } from '../../helpers/skip.js';
import {
  compilePattern,
  EMPTY_MATCH_INFO,
  matches,
  PatternMatcher,
  PatternSyntaxError,
} from '../../../src/util/pattern-matcher/index.js';
import type { MatchInfo, MatchType } from '../../../src/util/pattern-matcher/index.js';
import { goClean, goDir } from '../../../src/util/pattern-matcher/go-compat.js';

interface SingleCase { pattern: string; text: string; match: boolean }
interface MultiCase { patterns: string[]; text: string; match: boolean }
interface MatchStyleCase { pattern: string; text: string; match: boolean; error: string | null }
interface CompileCase { pattern: string; matchType: string; regexpSlash?: string; regexpBackslash?: string }
interface Cases {
  singlePattern: SingleCase[];
  multiPattern: MultiCase[];
  filepathMatchStyle: MatchStyleCase[];
  compile: CompileCase[];
}

const casesFile = join(anchorsDir, 'dockerignore', 'patternmatcher-cases.json');
const cases: Cases | undefined = existsSync(casesFile) ? (JSON.parse(readFileSync(casesFile, 'utf8')) as Cases) : undefined;

/** The parents of `text` as the upstream test walks them (filepath.Dir, split on `/`). */
function parentsOf(text: string): string[] {
  const parentPath = goDir(text);
  if (parentPath === '.') return [];
  const dirs = parentPath.split('/');
  return dirs.map((_, i) => dirs.slice(0, i + 1).join('/'));
}

function walkWithResults(pm: PatternMatcher, text: string): boolean {
  let info: MatchInfo = EMPTY_MATCH_INFO;
  for (const parent of parentsOf(text)) info = pm.matchesUsingParentResults(parent, info).info;
  return pm.matchesUsingParentResults(text, info).matched;
}

function walkWithResult(pm: PatternMatcher, text: string): boolean {
  let parentMatched = false;
  for (const parent of parentsOf(text)) parentMatched = pm.matchesUsingParentResult(parent, parentMatched);
  return pm.matchesUsingParentResult(text, parentMatched);
}

const label = (s: string): string => JSON.stringify(s);

describeIf(cases !== undefined, `no anchors at ${casesFile}`, 'patternmatcher conformance', () => {
  const c = cases as Cases;

  test('the tables have the documented sizes', () => {
    expect(c.singlePattern).toHaveLength(68);
    expect(c.multiPattern).toHaveLength(4);
    expect(c.filepathMatchStyle).toHaveLength(54);
    expect(c.compile).toHaveLength(21);
  });

  describe('A1 single pattern', () => {
    test.each(c.singlePattern.map((r, i) => [i + 1, label(r.pattern), label(r.text), r] as const))(
      '#%i %s vs %s',
      (_n, _p, _t, row) => {
        const pm = new PatternMatcher([row.pattern]);
        expect(pm.matchesOrParentMatches(row.text)).toBe(row.match);
        expect(walkWithResult(pm, row.text)).toBe(row.match);
        expect(walkWithResults(pm, row.text)).toBe(row.match);
        expect(pm.matchesUsingParentResults(row.text, EMPTY_MATCH_INFO).matched).toBe(row.match);
      },
    );
  });

  describe('A2 multiple patterns', () => {
    test.each(c.multiPattern.map((r, i) => [i + 1, r.patterns.join(' '), label(r.text), r] as const))(
      '#%i [%s] vs %s',
      (_n, _p, _t, row) => {
        const pm = new PatternMatcher(row.patterns);
        expect(pm.matchesOrParentMatches(row.text)).toBe(row.match);
        expect(walkWithResults(pm, row.text)).toBe(row.match);
        expect(pm.matchesUsingParentResults(row.text, EMPTY_MATCH_INFO).matched).toBe(row.match);
      },
    );
  });

  describe('A3 filepath.Match style (package-level matches)', () => {
    test.each(c.filepathMatchStyle.map((r, i) => [i + 1, label(r.pattern), label(r.text), r] as const))(
      '#%i %s vs %s',
      (_n, _p, _t, row) => {
        if (row.error !== null) {
          expect(row.error).toBe('ErrBadPattern');
          expect(() => matches(row.text, [row.pattern])).toThrow(PatternSyntaxError);
          expect(() => matches(row.text, [row.pattern])).toThrow(/syntax error in pattern/);
          return;
        }
        expect(matches(row.text, [row.pattern])).toBe(row.match);
      },
    );
  });

  describe('A4 compile', () => {
    const types: Record<string, MatchType> = {
      exactMatch: 'exact',
      prefixMatch: 'prefix',
      suffixMatch: 'suffix',
      regexpMatch: 'regexp',
    };
    test.each(c.compile.map((r, i) => [i + 1, label(r.pattern), r] as const))('#%i %s', (_n, _p, row) => {
      const cleaned = goClean(row.pattern);
      const slash = compilePattern(cleaned, { separator: '/' });
      const back = compilePattern(cleaned.replaceAll('/', '\\'), { separator: '\\' });
      expect(slash.matchType).toBe(types[row.matchType]);
      expect(back.matchType).toBe(types[row.matchType]);
      if (row.matchType === 'regexpMatch') {
        expect(slash.regexpSource).toBe(row.regexpSlash);
        expect(back.regexpSource).toBe(row.regexpBackslash);
      } else {
        expect(slash.regexpSource).toBeUndefined();
      }
    });
  });
});

describe('A5 patternmatcher unit facts', () => {
  test('TestWildcardMatches', () => expect(matches('fileutils.go', ['*'])).toBe(true));
  test('TestPatternMatches', () => expect(matches('fileutils.go', ['*.go'])).toBe(true));
  test('TestExclusionPatternMatchesPatternBefore', () => expect(matches('fileutils.go', ['!fileutils.go', '*.go'])).toBe(true));
  test('TestPatternMatchesFolderExclusions', () => expect(matches('docs/README.md', ['docs', '!docs/README.md'])).toBe(false));
  test('TestPatternMatchesFolderWithSlashExclusions', () =>
    expect(matches('docs/README.md', ['docs/', '!docs/README.md'])).toBe(false));
  test('TestPatternMatchesFolderWildcardExclusions', () =>
    expect(matches('docs/README.md', ['docs/*', '!docs/README.md'])).toBe(false));
  test('TestExclusionPatternMatchesPatternAfter', () => expect(matches('fileutils.go', ['*.go', '!fileutils.go'])).toBe(false));
  test('TestExclusionPatternMatchesWholeDirectory', () => expect(matches('.', ['*.go'])).toBe(false));
  test('TestSingleExclamationError', () => {
    expect(() => matches('fileutils.go', ['!'])).toThrow('illegal exclusion pattern: "!"');
  });
  test('TestMatchesWithNoPatterns', () => expect(matches('/any/path/there', [])).toBe(false));
  test('TestMatchesWithMalformedPatterns', () => {
    expect(() => matches('/any/path/there', ['['])).toThrow(PatternSyntaxError);
  });
  test('TestCleanPatterns', () => expect(new PatternMatcher(['docs', 'config']).patterns).toHaveLength(2));
  test('TestCleanPatternsStripEmptyPatterns', () => expect(new PatternMatcher(['docs', 'config', '']).patterns).toHaveLength(2));
  test('TestCleanPatternsExceptionFlag', () => expect(new PatternMatcher(['docs', '!docs/README.md']).exclusions()).toBe(true));
  test('TestCleanPatternsLeadingSpaceTrimmed', () => expect(new PatternMatcher(['docs', '  !docs/README.md']).exclusions()).toBe(true));
  test('TestCleanPatternsTrailingSpaceTrimmed', () => expect(new PatternMatcher(['docs', '!docs/README.md  ']).exclusions()).toBe(true));
  test('TestCleanPatternsErrorSingleException', () => {
    expect(() => new PatternMatcher(['!'])).toThrow(PatternSyntaxError);
  });
  test('no exclusions without a ! pattern', () => expect(new PatternMatcher(['docs']).exclusions()).toBe(false));
  test('regression moby/moby#52203: [Local-Only]/ compiles but every match is a clean error', () => {
    const pm = new PatternMatcher(['[Local-Only]/']);
    for (let i = 0; i < 2; i++) {
      let err: unknown;
      try {
        pm.matchesOrParentMatches('x');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PatternSyntaxError);
      expect((err as PatternSyntaxError).code).toBe('PATTERN_SYNTAX');
      expect((err as Error).message).toContain('[Local-Only]');
    }
  });
  test('a wrong-sized MatchInfo is rejected', () => {
    const pm = new PatternMatcher(['a', 'b']);
    expect(() => pm.matchesUsingParentResults('x', { parentMatched: [true] })).toThrow('wrong number of values');
  });
  test('a malformed pattern error names the pattern', () => {
    expect(() => new PatternMatcher(['ok', 'a[b'])).toThrow('syntax error in pattern "a[b"');
  });
});
