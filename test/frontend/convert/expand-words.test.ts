/**
 * Expander.words (EXPOSE) and Expander.forDisplay (step names) answer plain text without the
 * lexer: each answer must be the lexer's own, for both escape tokens, with and without the
 * characters the shortcuts look for.
 */
import { describe, expect, test } from '@jest/globals';
import { Expander, plainDisplayExpansion } from '../../../src/frontend/dockerfile/convert/expand.js';
import { ShellLex } from '../../../src/frontend/dockerfile/shell/lex.js';

const site = { file: 'Dockerfile', lines: ['EXPOSE x'], line: 1, column: 1, endLine: 1 };
const env = (k: string): string | undefined => ({ P: '80 443/udp', E: '' } as Record<string, string>)[k];

describe('Expander.words', () => {
  test.each(['\\', '`'] as const)('the same words as the lexer (escape %s)', (escapeToken) => {
    const expander = new Expander(escapeToken);
    const lex = new ShellLex({ escapeToken });
    const words = [
      '80', '8080/tcp', '9000-9001', '53/udp', 'a', '', ' ', 'a b', 'a\tb', 'a\u00a0b', 'a\u2003b', ' 80 ',
      '$P', '${P}/tcp', '$E', '"80 81"', "'80'", 'a\\ b', 'a`b', '8\\0', 'x\u0085y', 'é', '😀',
    ];
    for (const w of words) expect([w, expander.words(w, env, site)]).toEqual([w, lex.processWords(w, env)]);
  });

  test.each(['\\', '`'] as const)('forDisplay: the display lexer text, quotes kept (escape %s)', (escapeToken) => {
    const expander = new Expander(escapeToken);
    const lex = new ShellLex({ escapeToken, rawQuotes: true, skipUnsetEnv: true });
    const display = (t: string): string => {
      try {
        return lex.processWord(t, env);
      } catch {
        return t;
      }
    };
    const texts = [
      'RUN make', 'RUN ["/bin/sh", "-c", "echo exec form 8"]', 'RUN echo "a b" \'c d\'', 'RUN echo "unterminated',
      "RUN echo 'unterminated", 'RUN echo "it\'s"', 'RUN echo \'"\'', 'RUN echo $P', 'RUN echo ${UNSET} $E', 'RUN a\\ b',
      'RUN a`b', 'RUN echo "x\\"y"', 'COPY --chown=app:app pkg2/ ./pkg2/', 'RUN echo é 😀 "ü"', '',
    ];
    for (const t of texts) expect([t, expander.forDisplay(t, env)]).toEqual([t, display(t)]);
  });

  test.each(['\\', '`'] as const)('forDisplay of $NAME and ${NAME} without the lexer: 5000 random texts (escape %s)', (escapeToken) => {
    const expander = new Expander(escapeToken);
    const lex = new ShellLex({ escapeToken, rawQuotes: true, skipUnsetEnv: true });
    const vars = (k: string): string | undefined => ({ A: 'x y', B: '', V_1: '2.0', P: '$A', Q: '${B}' } as Record<string, string>)[k];
    const display = (t: string): string => {
      try {
        return lex.processWord(t, vars);
      } catch {
        return t;
      }
    };
    const pieces = ['RUN ', 'make ', '$A', '${A}', '$B', '$V_1', '${V_1}x', '$U', '${U}', '$A_', 'x', ' ', '\t', '/', '-', '=', 'é', '😀', '0', '\u0663', '$', '$1', '$$', '${A:-z}', '${A', '${#A}', '$@', '"', "'", '\\', '`', '~', '{', '}'];
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let shortcut = 0;
    for (let k = 0; k < 5000; k++) {
      let t = '';
      // Most texts from the pieces the shortcut answers, some with any piece.
      const n = rand(12);
      for (let i = 0; i < n; i++) t += pieces[rand(k % 4 === 0 ? pieces.length : 20)] as string;
      if (plainDisplayExpansion(t, vars) !== undefined) shortcut++;
      expect([t, expander.forDisplay(t, vars)]).toEqual([t, display(t)]);
    }
    expect(shortcut).toBeGreaterThan(2000);
  });
});
