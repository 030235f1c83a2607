/**
 * What a build through tsbuildd refuses (src/client/solve-wire-build.ts), on both sides of the
 * wire with the same error: a `type=local` cache (its directory is on the client; the daemon must
 * not use its own path for a remote caller) and `--ssh` (not forwarded yet). The client refuses
 * before it sends; the daemon refuses what another client (grpcurl, Python) sends anyway.
 */
import { expect, test } from '@jest/globals';
import { buildRequestOf, buildStartOf } from '../../src/client/solve-wire-build.js';
import type { BuildRequest } from '../../src/client/types.js';
import { formatError } from '../../cmd/cli/main.js';

const base: BuildRequest = {
  contextDir: '/ctx', dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\n').toString('base64') },
  buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [],
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

test('the client refuses a type=local cache before sending, with a clear line', () => {
  const err = thrown(() => buildStartOf({ ...base, cacheTo: [{ kind: 'local', dest: '/tmp/c', mode: 'min', tag: 'latest', ignoreError: false }] }, { contextKey: 'k', secretIds: [] }));
  expect(err).toMatchObject({ name: 'UserInputError', code: 'CACHE_LOCAL_REMOTE' });
  expect(formatError(err, false)).toBe('error: --cache-to type=local (/tmp/c) is not supported through tsbuildd: the directory is on the client and is not streamed; use type=registry, or build without --addr\n');
  expect(thrown(() => buildStartOf({ ...base, ssh: { default: '/run/agent.sock' } }, { contextKey: 'k', secretIds: [] }))).toMatchObject({ code: 'SSH_NOT_FORWARDED' });
});

test('the daemon refuses the same from a client that sends it anyway', () => {
  const start = { ...buildStartOf(base, { contextKey: 'k', secretIds: [] }), cacheFrom: [{ type: 'local', attrs: { src: '/etc', tag: 'latest' } }] };
  const err = thrown(() => buildRequestOf(start, '/ctx', []));
  expect(err).toMatchObject({ code: 'CACHE_LOCAL_REMOTE', message: expect.stringContaining('--cache-from type=local (/etc)') });
  expect(thrown(() => buildRequestOf({ ...start, cacheFrom: [], sshIds: ['default'] }, '/ctx', []))).toMatchObject({ code: 'SSH_NOT_FORWARDED' });
  expect(buildRequestOf({ ...start, cacheFrom: [{ type: 'registry', attrs: { ref: 'r.example/c:1' } }] }, '/ctx', []).cacheFrom).toEqual([{ kind: 'registry', ref: 'r.example/c:1' }]);
});
