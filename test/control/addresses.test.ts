/** `--addr` values (src/control/addresses.ts) and the per-client build limit (build-slots.ts). */
import { describe, expect, test } from '@jest/globals';
import { formatListenAddress, grpcBindTarget, parseListenAddress } from '../../src/control/addresses.js';
import { BuildSlots } from '../../src/control/build-slots.js';
import { UsageError, type TsbuildError } from '../../src/util/errors.js';

describe('parseListenAddress', () => {
  test.each([
    ['unix:///run/tsbuild/tsbuildd.sock', { kind: 'unix', path: '/run/tsbuild/tsbuildd.sock' }, 'unix:///run/tsbuild/tsbuildd.sock'],
    ['unix:///tmp//a/../b.sock', { kind: 'unix', path: '/tmp/b.sock' }, 'unix:///tmp/b.sock'],
    ['tcp://0.0.0.0:1234', { kind: 'tcp', host: '0.0.0.0', port: 1234 }, '0.0.0.0:1234'],
    ['tcp://[::1]:8443', { kind: 'tcp', host: '::1', port: 8443 }, '[::1]:8443'],
    ['tcp://build.example:0', { kind: 'tcp', host: 'build.example', port: 0 }, 'build.example:0'],
  ])('%s', (value, parsed, target) => {
    const a = parseListenAddress(value);
    expect(a).toEqual(parsed);
    expect(grpcBindTarget(a)).toBe(target);
    expect(parseListenAddress(formatListenAddress(a))).toEqual(a);
  });

  test.each(['unix://relative.sock', 'tcp://host', 'tcp://host:99999', 'http://x:1', '/run/x.sock', `unix:///${'x'.repeat(120)}`])('%s is a usage error', (value) => {
    expect(() => parseListenAddress(value)).toThrow(UsageError);
  });
});

describe('BuildSlots', () => {
  test('limits builds per client, frees a slot once, and 0 means unlimited', () => {
    const slots = new BuildSlots(2);
    const a1 = slots.acquire('a');
    slots.acquire('a');
    const b1 = slots.acquire('b');
    let code = '';
    try {
      slots.acquire('a');
    } catch (e) {
      code = (e as TsbuildError).code;
    }
    expect(code).toBe('TOO_MANY_BUILDS');
    a1();
    a1();
    expect(slots.count('a')).toBe(1);
    slots.acquire('a');
    b1();
    expect(slots.count('b')).toBe(0);
    const free = new BuildSlots(0);
    for (let i = 0; i < 50; i++) free.acquire('a');
    expect(free.count('a')).toBe(50);
  });
});
