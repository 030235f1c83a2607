import { describe, expect, test } from '@jest/globals';
import { formatGoDuration, parseGoDuration } from '../../../src/frontend/dockerfile/instructions/duration.js';
import { parseChmod } from '../../../src/frontend/dockerfile/instructions/chmod.js';
import { exposedPortKeys, parsePortSpec } from '../../../src/frontend/dockerfile/instructions/expose.js';
import { isValidSignal } from '../../../src/frontend/dockerfile/instructions/signal.js';
import { parseSize, splitCSV } from '../../../src/frontend/dockerfile/instructions/run-mount.js';

describe('Go durations', () => {
  test.each([
    ['0', 0], ['1ns', 1], ['1us', 1e3], ['1µs', 1e3], ['1μs', 1e3], ['1.5ms', 1.5e6], ['30s', 30e9], ['1m30s', 90e9],
    ['2h45m', 9900e9], ['.5s', 5e8], ['1.s', 1e9], ['+5s', 5e9], ['-5s', -5e9], ['1h1m1s1ms1us1ns', 3661001001001],
  ])('%s = %d ns', (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns);
  });

  test.each(['', '1', 's', '1x', '1.2.3s', '--1s', '1s2', 'abc', '9999999999h'])('rejects %j', (s) => {
    expect(() => parseGoDuration(s)).toThrow(/duration/);
  });

  test.each([[0, '0s'], [1, '1ns'], [1500, '1.5µs'], [3e9, '3s'], [90e9, '1m30s'], [300e9, '5m0s'], [3600e9, '1h0m0s'], [1.5e6, '1.5ms']])('formats %d as %s', (ns, s) => {
    expect(formatGoDuration(ns)).toBe(s);
  });
});

describe('chmod values', () => {
  test.each([['755', 0o755], ['0644', 0o644], ['7777', 0o7777], ['0', 0]])('octal %s', (v, mode) => {
    expect(parseChmod(v)).toEqual({ kind: 'octal', mode });
  });
  test.each(['u=rwX,go=rX', '+x', 'a-w', 'u+s,g=u', 'o=', 'ug+rw,o-rwx'])('symbolic %s', (v) => {
    expect(parseChmod(v)).toEqual({ kind: 'symbolic', expr: v });
  });
  test.each(['888', '17777', 'u=rwz', 'x+r', 'u', '', 'u=rw,,g=r'])('rejects %j', (v) => {
    expect(parseChmod(v)).toHaveProperty('error');
  });
});

describe('EXPOSE ports', () => {
  test('ranges expand to one key per port', () => {
    const r = parsePortSpec('8000-8002/udp');
    if ('error' in r) throw new Error(r.error);
    expect(exposedPortKeys(r)).toEqual(['8000/udp', '8001/udp', '8002/udp']);
    const t = parsePortSpec('80');
    if ('error' in t) throw new Error(t.error);
    expect(exposedPortKeys(t)).toEqual(['80/tcp']);
  });
  test.each(['0', '65536', '80/icmp', 'http', '90-80', '8080:80'])('rejects %s', (p) => {
    expect(parsePortSpec(p)).toHaveProperty('error');
  });
});

describe('signals', () => {
  test.each(['SIGTERM', 'TERM', 'sigkill', '9', 'SIGRTMIN+3', 'RTMAX-1', 'SIGWINCH'])('accepts %s', (s) => expect(isValidSignal(s)).toBe(true));
  test.each(['SIGFOO', '0', '256', 'RTMIN+99', ''])('rejects %j', (s) => expect(isValidSignal(s)).toBe(false));
});

describe('mount value helpers', () => {
  test('CSV like Go encoding/csv', () => {
    expect(splitCSV('a=1,b=2')).toEqual(['a=1', 'b=2']);
    expect(splitCSV('"a=1,2",b')).toEqual(['a=1,2', 'b']);
    expect(splitCSV('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
    expect(() => splitCSV('a="b"')).toThrow(/bare "/);
    expect(() => splitCSV('"unterminated')).toThrow(/quoted-field/);
  });
  test('sizes', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('64m')).toBe(64 * 1024 ** 2);
    expect(parseSize('1g')).toBe(1024 ** 3);
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('lots')).toBeUndefined();
  });
});
