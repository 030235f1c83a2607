/**
 * normalizeImageRef / familiarImageRef: the string forms the image store and the command line use,
 * over the one reference parser (src/oci/reference.ts). The last block pins the cases where the
 * two former parsers (src/llb/image-ref.ts and src/registry/reference.ts) disagreed: Docker's
 * distribution/reference behaviour is the one kept.
 */
import { describe, expect, test } from '@jest/globals';
import { familiarImageRef, normalizeImageRef, parseReference } from '../../src/oci/reference.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('image references are normalized like Docker', () => {
  test.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.19', 'docker.io/library/alpine:3.19'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge'],
    ['myorg/app', 'docker.io/myorg/app:latest'],
    ['ghcr.io/o/r/app:v1', 'ghcr.io/o/r/app:v1'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['127.0.0.1:5000/a/b:1.0', '127.0.0.1:5000/a/b:1.0'],
    [`alpine@${D}`, `docker.io/library/alpine@${D}`],
    [`alpine:3@${D}`, `docker.io/library/alpine:3@${D}`],
    ['a__b/c-d.e_f', 'docker.io/a__b/c-d.e_f:latest'],
  ])('%s → %s', (input, want) => {
    expect(normalizeImageRef(input)).toBe(want);
  });

  test.each([
    ['Alpine', /must be lowercase/],
    ['alpine:', /invalid reference format/],
    ['alpine:bad tag', /invalid reference format/],
    ['a'.repeat(64).replace(/a/g, 'f'), /64-byte hexadecimal/],
    ['alpine@sha256:xyz', /invalid reference format/],
    ['-bad', /invalid reference format/],
    ['', /invalid reference format/],
    ['foo//bar', /invalid reference format/],
  ])('rejects %j', (input, why) => {
    expect(() => normalizeImageRef(input)).toThrow(why);
    try { normalizeImageRef(input); } catch (e) { expect((e as { code: string }).code).toBe('INVALID_REFERENCE'); }
  });

  test('familiar form drops the default registry', () => {
    expect(familiarImageRef('docker.io/library/alpine:latest')).toBe('alpine:latest');
    expect(familiarImageRef('myorg/app')).toBe('myorg/app');
    expect(familiarImageRef('ghcr.io/o/app:1')).toBe('ghcr.io/o/app:1');
  });
});

describe('where the two former parsers disagreed, Docker wins', () => {
  test('familiar form keeps library/ when more path follows (docker shows library/a/b, not a/b)', () => {
    expect(familiarImageRef('docker.io/library/a/b:1')).toBe('library/a/b:1');
  });

  test('a digest must be of a known algorithm and full length (go-digest), not any hex of 32+', () => {
    expect(() => normalizeImageRef(`alpine@md5:${'f'.repeat(64)}`)).toThrow(/unsupported digest algorithm/);
    expect(() => normalizeImageRef(`alpine@sha256:${'f'.repeat(40)}`)).toThrow(/invalid checksum digest length/);
    expect(normalizeImageRef(`alpine@sha512:${'f'.repeat(128)}`)).toBe(`docker.io/library/alpine@sha512:${'f'.repeat(128)}`);
  });

  test('surrounding white space is not trimmed: it is an invalid reference, as docker tag says', () => {
    expect(() => parseReference(' alpine')).toThrow(/invalid reference format/);
    expect(() => normalizeImageRef('alpine ')).toThrow(/invalid reference format/);
  });
});
