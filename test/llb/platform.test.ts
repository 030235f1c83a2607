import { describe, expect, test } from '@jest/globals';
import { formatPlatform, hostPlatform, parsePlatform } from '../../src/llb/platform.js';

describe('platforms', () => {
  test.each([
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armhf', 'linux/arm/v7'],
    ['LINUX/AMD64', 'linux/amd64'],
    ['arm64', 'linux/arm64'],
    ['linux/386', 'linux/386'],
    ['windows/amd64', 'windows/amd64'],
  ])('%s → %s', (spec, want) => {
    expect(formatPlatform(parsePlatform(spec))).toBe(want);
  });

  test.each(['', 'linux/amd64/v2/x', 'plan10/amd64', 'linux/am d64'])('rejects %j', (spec) => {
    expect(() => parsePlatform(spec)).toThrow(/invalid platform/);
  });

  test('the host platform is linux and normalized', () => {
    const h = hostPlatform();
    expect(h.os).toBe('linux');
    expect(formatPlatform(parsePlatform(formatPlatform(h)))).toBe(formatPlatform(h));
  });
});
