/** WWW-Authenticate parsing and token scope canonicalization. */
import { describe, expect, test } from '@jest/globals';
import { mergeScopes, repositoryScope } from '../../src/registry/authenticator.js';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.js';

describe('WWW-Authenticate', () => {
  test('a Bearer challenge with quoted parameters', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' } },
    ]);
  });

  test('Basic, token values, escapes, spaces and case', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry \\"Realm\\""')).toEqual([{ scheme: 'basic', params: { realm: 'Registry "Realm"' } }]);
    expect(parseWwwAuthenticate('BEARER Realm = http://x/token , Service=svc')).toEqual([{ scheme: 'bearer', params: { realm: 'http://x/token', service: 'svc' } }]);
  });

  test('several challenges in one header and across headers', () => {
    expect(parseWwwAuthenticate(['Basic realm="a", Bearer realm="b",service="s"', 'Negotiate']).map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
  });

  test('error and insufficient scope parameters are kept', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="r",service="s",scope="repository:a:pull repository:b:pull",error="insufficient_scope"');
    expect(c?.params['error']).toBe('insufficient_scope');
    expect(c?.params['scope']).toBe('repository:a:pull repository:b:pull');
  });

  test('nothing, or garbage, gives no challenges', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('"quoted"')).toEqual([]);
  });
});

describe('token scopes', () => {
  test('one scope per repository with merged actions, sorted', () => {
    expect(mergeScopes(['repository:b:pull', 'repository:a:push', 'repository:a:pull', repositoryScope('b', ['pull', 'push'])])).toEqual(['repository:a:pull,push', 'repository:b:pull,push']);
    expect(mergeScopes(['repository:a:push,pull', 'registry:catalog:*'])).toEqual(['registry:catalog:*', 'repository:a:pull,push']);
    expect(mergeScopes([])).toEqual([]);
  });
});
