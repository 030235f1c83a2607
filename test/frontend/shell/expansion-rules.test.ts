/** The table of where Docker expands variables (docs/shell-expansion.md). */
import { describe, expect, test } from '@jest/globals';
import {
  argumentExpansion,
  changedByExpansion,
  flagExpansion,
  INSTRUCTION_EXPANSION,
  instructionExpansion,
  ShellLex,
} from '../../../src/frontend/dockerfile/shell/index.js';

describe('expansion rules', () => {
  test('the instructions the Dockerfile reference lists expand their arguments', () => {
    for (const k of ['ADD', 'COPY', 'ENV', 'EXPOSE', 'FROM', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR', 'ARG']) {
      expect({ k, mode: argumentExpansion(k, { execForm: false }) }).toEqual({ k, mode: k === 'EXPOSE' ? 'words' : 'word' });
    }
  });

  test('RUN, CMD, ENTRYPOINT: the shell expands shell form; exec form is literal', () => {
    for (const k of ['RUN', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK']) {
      expect(argumentExpansion(k, { execForm: false })).toBe('shell');
      expect(argumentExpansion(k, { execForm: true })).toBe('none');
    }
  });

  test('flags', () => {
    expect(flagExpansion('COPY', '--from')).toBe('forbidden');
    expect(flagExpansion('copy', 'chown')).toBe('word');
    expect(flagExpansion('ADD', '--chmod')).toBe('word');
    expect(flagExpansion('ADD', '--checksum')).toBe('word');
    expect(flagExpansion('RUN', '--mount')).toBe('word');
    expect(flagExpansion('RUN', '--network')).toBe('none');
    expect(flagExpansion('FROM', '--platform')).toBe('word');
    expect(flagExpansion('COPY', '--exclude')).toBe('none');
    expect(flagExpansion('NOPE', '--x')).toBe('none');
    expect(flagExpansion('COPY', '--toString')).toBe('none');
  });

  test('ONBUILD is deferred, SHELL and MAINTAINER literal, FROM sees only global ARGs', () => {
    expect(argumentExpansion('onbuild', { execForm: false })).toBe('deferred');
    expect(argumentExpansion('SHELL', { execForm: true })).toBe('none');
    expect(argumentExpansion('MAINTAINER', { execForm: false })).toBe('none');
    expect(instructionExpansion('from')?.scope).toBe('global');
    expect(instructionExpansion('COPY')?.scope).toBe('stage');
  });

  test('heredocs: COPY/ADD bodies raw-expanded by the builder, RUN bodies left to the shell', () => {
    expect(INSTRUCTION_EXPANSION.COPY.heredoc).toBe('raw');
    expect(INSTRUCTION_EXPANSION.ADD.heredoc).toBe('raw');
    expect(INSTRUCTION_EXPANSION.RUN.heredoc).toBe('shell');
  });

  test('unknown keywords have no rules', () => {
    expect(instructionExpansion('FROB')).toBeUndefined();
    expect(instructionExpansion('constructor')).toBeUndefined();
    expect(argumentExpansion('FROB', { execForm: false })).toBe('none');
  });

  test('changedByExpansion: how COPY --from is checked', () => {
    const lex = new ShellLex({ escapeToken: '\\' });
    expect(changedByExpansion(lex, 'builder')).toBe(false);
    expect(changedByExpansion(lex, 'alpine:3.20')).toBe(false);
    expect(changedByExpansion(lex, '$STAGE')).toBe(true);
    expect(changedByExpansion(lex, '${STAGE:-x}')).toBe(true);
  });
});
