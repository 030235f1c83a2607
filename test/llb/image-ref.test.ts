import { describe, expect, test } from '@jest/globals';
import { familiarImageRef, normalizeImageRef, parseImageRef } from '../../src/llb/image-ref.js';

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
    ['alpine:', /invalid tag/],
    ['alpine:bad tag', /invalid/],
    ['a'.repeat(64).replace(/a/g, 'f'), /64-byte hexadecimal/],
    ['alpine@sha256:xyz', /invalid digest/],
    ['-bad', /invalid repository name/],
    ['', /empty/],
    ['foo//bar', /invalid/],
  ])('rejects %j', (input, why) => {
    expect(() => parseImageRef(input)).toThrow(why);
    try { parseImageRef(input); } catch (e) { expect((e as { code: string }).code).toBe('INVALID_REFERENCE'); }
  });

  test('familiar form drops the default registry', () => {
    expect(familiarImageRef('docker.io/library/alpine:latest')).toBe('alpine:latest');
    expect(familiarImageRef('myorg/app')).toBe('myorg/app');
    expect(familiarImageRef('ghcr.io/o/app:1')).toBe('ghcr.io/o/app:1');
  });
});
