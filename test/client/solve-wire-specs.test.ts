/**
 * What a build request keeps across the Solve wire (src/client/solve-wire-build.ts) for the things
 * that used to be refused: `type=local` caches keep their client paths and options (the daemon
 * replaces them with scratch copies it fetches or sends over the stream, never using the paths)
 * and `--ssh` ids travel (the agents stay on the client; the daemon tunnels to them).
 */
import { expect, test } from '@jest/globals';
import { buildRequestOf, buildStartOf } from '../../src/client/solve-wire-build.js';
import type { BuildRequest } from '../../src/client/types.js';

const base: BuildRequest = {
  contextDir: '/ctx', dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\n').toString('base64') },
  buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [],
};

test('local caches and ssh ids round-trip through BuildStart', () => {
  const start = buildStartOf({
    ...base,
    ssh: { default: '/run/agent.sock', deploy: '/tmp/deploy.sock' },
    cacheTo: [
      { kind: 'local', dest: '/tmp/c', mode: 'max', tag: 'main', ignoreError: true },
      { kind: 'registry', ref: 'r.example/c:2', mode: 'min', ignoreError: false, compression: 'zstd', compressionLevel: '5', forceCompression: true },
    ],
    cacheFrom: [{ kind: 'local', src: '/tmp/c', tag: 'main' }, { kind: 'registry', ref: 'r.example/c:1' }],
  }, { contextKey: 'k', secretIds: [] });
  expect(start.sshIds).toEqual(['default', 'deploy']);
  const req = buildRequestOf(start, '/ctx', []);
  expect(req.cacheTo).toEqual([
    { kind: 'local', dest: '/tmp/c', mode: 'max', tag: 'main', ignoreError: true },
    { kind: 'registry', ref: 'r.example/c:2', mode: 'min', ignoreError: false, compression: 'zstd', compressionLevel: '5', forceCompression: true },
  ]);
  expect(req.cacheFrom).toEqual([{ kind: 'local', src: '/tmp/c', tag: 'main' }, { kind: 'registry', ref: 'r.example/c:1' }]);
  // The client's socket paths never travel: the daemon sets its own.
  expect(req.ssh).toEqual({});
});
