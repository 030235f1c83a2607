/** The token file format and the role checks (src/control/tokens.ts, auth.ts). */
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Authorizer, requiredRole } from '../../src/control/auth.js';
import { bearerToken, TokenTable } from '../../src/control/tokens.js';
import { TsbuildError, UsageError } from '../../src/util/errors.js';

const T1 = 'first-token-0123456789';
const T2 = 'second-token-0123456789';
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('TokenTable.parse', () => {
  test('reads tokens and digests with roles and names; comments and blank lines are skipped', () => {
    const t = TokenTable.parse(`# comment\n\n  ${T1}  admin  ci\nsha256:${hex(T2).toUpperCase()} readonly\n`, 'tokens');
    expect(t.size).toBe(2);
    expect(t.plainTokens).toBe(1);
    expect(t.lookup(T1)).toEqual({ name: 'ci', role: 'admin' });
    expect(t.lookup(T2)).toEqual({ name: `token-${hex(T2).slice(0, 8)}`, role: 'readonly' });
    expect(t.lookup('sha256:' + hex(T2))).toBeUndefined();
    expect(t.lookup('nope')).toBeUndefined();
  });

  test.each([
    [`${T1}`, /tokens:1: expected "TOKEN ROLE \[NAME\]"/],
    [`${T1} admin a b`, /tokens:1: expected/],
    [`${T1} root`, /unknown role "root"/],
    ['sha256:abc admin', /64 hex digits/],
    ['tiny admin', /token too short/],
    [`${T1} admin\n${T1} readonly`, /tokens:2: the same token appears twice/],
    [`${T1} admin x\n${T2} admin x`, /the name "x" appears twice/],
    ['', /no tokens/],
  ])('%j is refused', (text, re) => {
    expect(() => TokenTable.parse(text, 'tokens')).toThrow(UsageError);
    expect(() => TokenTable.parse(text, 'tokens')).toThrow(re);
  });
});

describe('bearerToken', () => {
  test('takes the token of a Bearer header, any case of the scheme', () => {
    expect(bearerToken(`Bearer ${T1}`)).toBe(T1);
    expect(bearerToken(`bearer   ${T1} `)).toBe(T1);
    expect(bearerToken(`Basic ${T1}`)).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('Authorizer', () => {
  const call = (method: string, authorization?: string) => ({
    method: `/tsbuild.control.v1.Control/${method}`, authorization, certificateName: undefined, peer: undefined,
  });
  const table = TokenTable.parse(`${T1} admin ci\n${T2} readonly dash\n`, 'tokens');

  test('the role table: reads are readonly, builds and deletions admin, health open, unknown methods admin', () => {
    for (const m of ['Info', 'ListImages', 'Inspect', 'History', 'DiskUsage', 'ListBuilds', 'Status']) expect(requiredRole(`/tsbuild.control.v1.Control/${m}`)).toBe('readonly');
    for (const m of ['Solve', 'Prune', 'RemoveImage', 'TagImage']) expect(requiredRole(`/tsbuild.control.v1.Control/${m}`)).toBe('admin');
    expect(requiredRole('/grpc.health.v1.Health/Check')).toBe('none');
    expect(requiredRole('/tsbuild.control.v1.Control/Future')).toBe('admin');
  });

  test('without tokens every caller is an admin named after its transport', () => {
    const a = new Authorizer(undefined);
    expect(a.authorize(call('Solve'))).toEqual({ name: 'local', role: 'admin' });
    expect(a.authorize({ ...call('Solve'), certificateName: 'runner-7' })).toEqual({ name: 'runner-7', role: 'admin' });
    expect(a.authorize({ ...call('Solve'), peer: '10.1.2.3:5555' })).toEqual({ name: '10.1.2.3', role: 'admin' });
  });

  test('with tokens: missing or unknown is UNAUTHENTICATED, readonly on admin methods PERMISSION_DENIED', () => {
    const a = new Authorizer(table);
    const codeOf = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as TsbuildError).code;
      }
      return 'OK';
    };
    expect(codeOf(() => a.authorize(call('Info')))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => a.authorize(call('Info', 'Basic x')))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => a.authorize(call('Info', 'Bearer wrong-token-123456789')))).toBe('UNAUTHENTICATED');
    expect(a.authorize(call('Info', `Bearer ${T2}`))).toEqual({ name: 'dash', role: 'readonly' });
    for (const m of ['Solve', 'Prune', 'RemoveImage', 'TagImage']) expect(codeOf(() => a.authorize(call(m, `Bearer ${T2}`)))).toBe('PERMISSION_DENIED');
    expect(a.authorize(call('Solve', `Bearer ${T1}`))).toEqual({ name: 'ci', role: 'admin' });
    expect(a.authorize({ ...call('Info'), method: '/grpc.health.v1.Health/Check' }).role).toBe('readonly');
  });
});
