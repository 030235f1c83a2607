/**
 * The lexer-free split of plain instruction lines (instruction.ts `splitPlain`) must give exactly
 * what the Chevrotain grammar gives: random lines built from the characters that matter (Go
 * spaces, `--`, quotes, escapes), reproducible from a fixed seed, both escape tokens.
 */
import { expect, test } from '@jest/globals';
import { splitPlain, splitWithParser } from '../../../src/frontend/dockerfile/instruction.js';
import { isGoSpace } from '../../../src/frontend/dockerfile/go-text.js';
import { mulberry32 as prng } from '../../helpers/prng.js';

const PIECES = ['RUN', 'a', 'x=1', '-', '--', '=', ' ', '\t', '\v', '\r', '\n', '\u00a0', '\u2028', '\u3000', '"', "'", '\\', '`', '[', ']'];

function goTrim(s: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && isGoSpace(s.charCodeAt(i))) i++;
  while (j > i && isGoSpace(s.charCodeAt(j - 1))) j--;
  return s.slice(i, j);
}

test('splitPlain agrees with the grammar on every line it takes', () => {
  const rnd = prng(0x5eed1175);
  let taken = 0;
  const fixed = ['RUN', 'RUN x', 'RUN --a --b c', 'RUN --a -- --b c', 'RUN --a --', 'RUN --a\u00a0--b c', 'COPY --from=a --link b c'];
  const lines = [...fixed];
  for (let k = 0; k < 20_000; k++) {
    let s = '';
    const len = 1 + Math.floor(rnd() * 14);
    for (let c = 0; c < len; c++) s += PIECES[Math.floor(rnd() * PIECES.length)] as string;
    lines.push(goTrim(s));
  }
  for (const line of lines) {
    if (line === '') continue;
    for (const escape of ['\\', '`'] as const) {
      const plain = splitPlain(line, 3);
      if (!plain) continue;
      taken++;
      expect({ line, escape, header: plain }).toEqual({ line, escape, header: splitWithParser(line, escape, 3) });
    }
  }
  // Most lines take the fast path; quoted or escaped flag words go to the grammar.
  expect(taken).toBeGreaterThan(20_000);
  expect(splitPlain('RUN --a="b c" d', 0)).toBeUndefined();
  expect(splitPlain('RUN --a\\ b d', 0)).toBeUndefined();
  expect(splitPlain('RUN --a -- b', 0)).toEqual({ keyword: 'RUN', keywordOffset: 0, flags: ['--a'], args: 'b', argsOffset: 11 });
});
