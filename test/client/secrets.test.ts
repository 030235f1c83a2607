/** `--secret` and `--ssh` as docker buildx spells them, parsed on the client. */
import { describe, expect, test } from '@jest/globals';
import { parseSecretFlag, parseSshFlag } from '../../src/client/secrets.js';

describe('build secret flags', () => {
  test('--secret flags, as docker buildx spells them', () => {
    const env = { GH: 'x' };
    expect(parseSecretFlag('id=a,src=/p', env)).toEqual({ id: 'a', source: { kind: 'file', path: '/p' } });
    expect(parseSecretFlag('id=a,source=/p,type=file', env)).toEqual({ id: 'a', source: { kind: 'file', path: '/p' } });
    expect(parseSecretFlag('id=a,env=VAR', env)).toEqual({ id: 'a', source: { kind: 'env', name: 'VAR' } });
    expect(parseSecretFlag('id=a,type=env,src=VAR', env)).toEqual({ id: 'a', source: { kind: 'env', name: 'VAR' } });
    expect(parseSecretFlag('id=GH', env)).toEqual({ id: 'GH', source: { kind: 'env', name: 'GH' } });
    expect(parseSecretFlag('id=other', env)).toEqual({ id: 'other', source: { kind: 'file', path: 'other' } });
    expect(() => parseSecretFlag('src=/p', env)).toThrow(/id= is required/);
    expect(() => parseSecretFlag('id=a,sorce=/p', env)).toThrow(/unknown key sorce/);
    expect(() => parseSecretFlag('id=a,type=vault', env)).toThrow(/type must be file or env/);
  });

  test('--ssh flags', () => {
    expect(parseSshFlag('default', { SSH_AUTH_SOCK: '/a.sock' })).toEqual({ id: 'default', socketPath: '/a.sock' });
    expect(parseSshFlag('gh=/b.sock', {})).toEqual({ id: 'gh', socketPath: '/b.sock' });
    expect(() => parseSshFlag('default', {})).toThrow(/SSH_AUTH_SOCK is not set/);
  });
});
