/** Platform selection from an index, with containerd-style normalization. */
import { describe, expect, test } from '@jest/globals';
import type { Descriptor } from '../../src/oci/types.js';
import { parsePlatformSpec, selectPlatform } from '../../src/registry/platform.js';

const d = (n: number, platform?: Descriptor['platform']): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: n,
  ...(platform ? { platform } : {}),
});

const index = [
  d(1, { os: 'linux', architecture: 'amd64' }),
  d(2, { os: 'linux', architecture: 'arm', variant: 'v6' }),
  d(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
  d(4, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
  d(5, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' }),
  d(6, { os: 'unknown', architecture: 'unknown' }),
  d(7),
];

describe('selectPlatform', () => {
  test.each([
    ['linux/amd64', 1],
    ['linux/x86_64', 1],
    ['linux/amd64/v1', 1],
    ['linux/arm64', 4],
    ['linux/aarch64', 4],
    ['linux/arm64/v8', 4],
    ['linux/arm', 3],
    ['linux/arm/v7', 3],
    ['linux/armhf', 3],
    ['linux/arm/v6', 2],
    ['linux/armel', 2],
    ['windows/amd64', 5],
  ])('%s picks entry %d', (spec, size) => {
    expect(selectPlatform(index, parsePlatformSpec(spec))?.size).toBe(size);
  });

  test('nothing matches: undefined (attestations and platform-less entries never match)', () => {
    expect(selectPlatform(index, parsePlatformSpec('linux/s390x'))).toBeUndefined();
    expect(selectPlatform(index, parsePlatformSpec('unknown/unknown'))?.size).toBe(6);
    expect(selectPlatform([d(7)], parsePlatformSpec('linux/amd64'))).toBeUndefined();
  });

  test('without a variant, another variant of the architecture is the fallback; with one, it must match', () => {
    const only = [d(8, { os: 'linux', architecture: 'amd64', variant: 'v3' })];
    expect(selectPlatform(only, { os: 'linux', architecture: 'amd64' })?.size).toBe(8);
    expect(selectPlatform(only, { os: 'linux', architecture: 'amd64', variant: 'v2' })).toBeUndefined();
  });

  test('bad platform strings are INVALID_PLATFORM', () => {
    expect(() => parsePlatformSpec('linux')).toThrow(expect.objectContaining({ code: 'INVALID_PLATFORM' }));
    expect(() => parsePlatformSpec('linux/arm/v7/x')).toThrow(/expected os\/arch\[\/variant\]/);
  });
});
