import { describe, expect, test } from '@jest/globals';
import { parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../../src/frontend/dockerfile/convert/convert.js';
import { UserInputError } from '../../../src/util/errors.js';
import { REJECTIONS } from './rejection-cases.js';

describe('Dockerfile rejections are one located UserInputError with a stable code', () => {
  test.each(REJECTIONS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    let err: unknown;
    try {
      await convertDockerfile(parseDockerfile(c.dockerfile, { file: 'Dockerfile' }), { platform: 'linux/amd64' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    const e = err as UserInputError;
    expect({ code: e.code, message: e.message }).toEqual({ code: c.code, message: expect.stringContaining(c.message) });
    expect(e.describe()).toMatch(new RegExp(`^Dockerfile:${c.at}: `));
    const line = Number(c.at.split(':')[0]);
    expect(e.sourceLine).toBe(c.dockerfile.split('\n')[line - 1]);
  });
});

describe('conversion errors that are not about a line', () => {
  test('unknown --target suggests the closest stage name', async () => {
    const ast = parseDockerfile('FROM a AS builder\nFROM b AS runtime\n', { file: 'Dockerfile' });
    await expect(convertDockerfile(ast, { target: 'buidler' })).rejects.toThrow('target stage "buidler" could not be found (did you mean builder?)');
    await expect(convertDockerfile(ast, { target: 'buidler' })).rejects.toMatchObject({ code: 'DOCKERFILE_UNKNOWN_TARGET' });
  });

  test('a bad --platform', async () => {
    const ast = parseDockerfile('FROM a\n', { file: 'Dockerfile' });
    await expect(convertDockerfile(ast, { platform: 'linux/amd64/x/y' })).rejects.toMatchObject({ code: 'INVALID_PLATFORM' });
  });

  test('an aborted signal stops the conversion', async () => {
    const ast = parseDockerfile('FROM a\n', { file: 'Dockerfile' });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(convertDockerfile(ast, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
