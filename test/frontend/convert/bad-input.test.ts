/**
 * Hostile or huge Dockerfiles: many ENV/ARG lines keep their meaning (each ENV used to copy the
 * whole environment: 20,000 lines took 25 s, 200,000 never finished; bench/parse measures the time
 * per instruction), self-doubling expansions stop with a located error instead of V8's "Invalid
 * string length", and an aborted signal stops a long parse or conversion.
 */
import { describe, expect, test } from '@jest/globals';
import { parseDockerfile, parseDockerfileAsync } from '../../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../../src/frontend/dockerfile/convert/convert.js';
import { MAX_EXPANSION_CHARS } from '../../../src/frontend/dockerfile/shell/lex.js';
import { EnvList } from '../../../src/llb/env-list.js';
import { UserInputError } from '../../../src/util/errors.js';
import { byName, convert, execOf } from './helpers.js';

function manyEnv(n: number): string {
  const lines = ['FROM alpine'];
  for (let i = 0; i < n; i++) lines.push(`ENV V${i}=x${i}`);
  // Replaced keys keep their first position; a RUN sees the latest value (an ARG after an ENV of
  // the same name included; the image Env keeps the ENV value).
  lines.push('ENV V0=again', 'ARG V1=arg-wins', 'ARG EXTRA=e', 'RUN true', '');
  return lines.join('\n');
}

describe('many ENV and ARG lines', () => {
  test('50,000 ENV lines: image Env and the RUN env in order, replaced keys in place', async () => {
    const n = 50_000;
    const r = await convert(manyEnv(n));
    const env = r.image.config.Env ?? [];
    expect(env).toHaveLength(n + 1); // + PATH from the base defaults
    expect(env[1]).toBe('V0=again');
    expect(env[2]).toBe('V1=x1');
    expect(env[n]).toBe(`V${n - 1}=x${n - 1}`);
    const runEnv = execOf(byName(r, 'RUN true')).meta?.env ?? [];
    expect(runEnv).toHaveLength(n + 2);
    expect(runEnv.slice(0, 3)).toEqual([env[0], 'V0=again', 'V1=arg-wins']);
    expect(runEnv[runEnv.length - 1]).toBe('EXTRA=e');
    expect(r.image.history).toHaveLength(n + 4);
  });

  test('EnvList: versions share one log and never see each other\'s later changes', () => {
    const a = EnvList.from([['A', '1'], ['B', '2']]);
    const b = a.set('C', '3');
    const c = a.set('A', 'branch'); // a branch from an older version copies its prefix
    const d = b.set('B', 'new');
    expect(a.entries()).toEqual([['A', '1'], ['B', '2']]);
    expect(b.strings()).toEqual(['A=1', 'B=2', 'C=3']);
    expect(c.strings()).toEqual(['A=branch', 'B=2']);
    expect(d.strings()).toEqual(['A=1', 'B=new', 'C=3']);
    expect([a.size, b.size, c.size, d.size]).toEqual([2, 3, 2, 3]);
    expect(c.get('C')).toBeUndefined();
    expect(b.set('C', '3')).toBe(b);
  });
});

describe('self-referencing and doubling expansions', () => {
  const doubling = (instr: string, ref: string, n: number): string => {
    const lines = ['FROM alpine', `${instr} A=0123456789`];
    for (let i = 0; i < n; i++) lines.push(`${instr} A=${ref}${ref}`);
    return `${lines.join('\n')}\nRUN true\n`;
  };

  test.each([
    ['ENV', '$A'],
    ['ARG', '${A}'],
  ])('%s doubling with %s past past the bound fails at the line that crosses it', async (instr, ref) => {
    // 10 * 2^k characters: k = 17 is the first to pass 2^20.
    const err = await convert(doubling(instr, ref, 30)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserInputError);
    const e = err as UserInputError;
    expect(e.code).toBe('SHELL_EXPANSION');
    expect(e.location).toEqual({ file: 'Dockerfile', line: 2 + 17, column: 1 });
    expect(e.message).toContain(`the expansion is longer than ${MAX_EXPANSION_CHARS} characters`);
    // Below the bound the same Dockerfile converts.
    await expect(convert(doubling(instr, ref, 16))).resolves.toBeDefined();
  });
});

describe('an aborted signal stops long work', () => {
  test('parseDockerfileAsync: same AST as parseDockerfile, and a CancelledError once aborted', async () => {
    const src = manyEnv(10_000);
    expect(await parseDockerfileAsync(src, { file: 'Dockerfile' })).toEqual(parseDockerfile(src, { file: 'Dockerfile' }));
    const ac = new AbortController();
    const parsing = parseDockerfileAsync(src, { file: 'Dockerfile', signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(parsing).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  test('convertDockerfile gives the event loop a turn and honours the abort mid-way', async () => {
    const ast = parseDockerfile(manyEnv(20_000), { file: 'Dockerfile' });
    const ac = new AbortController();
    // Aborted from a timer: it can only fire if the conversion yields while it runs.
    setImmediate(() => ac.abort(new Error('stop')));
    await expect(convertDockerfile(ast, { platform: 'linux/amd64', signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
