/**
 * Reference parsing against Docker's own cases, transcribed from distribution/reference's
 * reference_test.go (TestReferenceParse) and normalize_test.go (TestValidateReferenceName,
 * TestValidateRemoteName, TestParseRepositoryInfo, TestNormalizedSplitHostname,
 * TestParseReferenceWithTagAndDigest), plus the spellings tsbuild users type.
 */
import { describe, expect, test } from '@jest/globals';
import {
  familiarName,
  familiarString,
  formatReference,
  InvalidReferenceError,
  parseReference,
  parseReferenceRaw,
  repositoryName,
  withDefaultTag,
} from '../../src/oci/reference.js';
import type { ReferenceErrorReason } from '../../src/oci/reference.js';

const F64 = 'f'.repeat(64);
const F128 = 'f'.repeat(128);

interface RawCase {
  readonly input: string;
  readonly err?: ReferenceErrorReason;
  /** Name(): domain/path as given. */
  readonly repository?: string;
  readonly domain?: string;
  readonly tag?: string;
  readonly digest?: string;
}

// TestReferenceParse (distribution/reference/reference_test.go).
const rawCases: RawCase[] = [
  { input: 'test_com', repository: 'test_com' },
  { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
  { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
  { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
  { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
  { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
  { input: `test:5000/repo@sha256:${F64}`, domain: 'test:5000', repository: 'test:5000/repo', digest: `sha256:${F64}` },
  { input: `test:5000/repo:tag@sha256:${F64}`, domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag', digest: `sha256:${F64}` },
  { input: '', err: 'empty' },
  { input: ':justtag', err: 'format' },
  { input: `@sha256:${F64}`, err: 'format' },
  { input: `repo@sha256:${'f'.repeat(34)}`, err: 'digest-length' },
  { input: `validname@invaliddigest:${F64}`, err: 'digest-unsupported' },
  { input: 'Uppercase:tag', err: 'uppercase' },
  { input: 'test:5000/Uppercase/lowercase:tag', err: 'uppercase' },
  { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
  { input: `${'a/'.repeat(128)}a:tag`, err: 'too-long' },
  { input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`, domain: 'a', repository: `${'a/'.repeat(127)}a`, tag: 'tag-puts-this-over-max' },
  { input: 'aa/asdf$$^/aa', err: 'format' },
  { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux' },
  { input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux', tag: 'some-long-tag' },
  { input: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', repository: 'b.gcr.io/test.example.com/my-app', tag: 'test.example.com' },
  { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', repository: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
  { input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`, domain: 'xn--7o8h.com', repository: 'xn--7o8h.com/myimage', tag: 'xn--7o8h.com', digest: `sha512:${F128}` },
  { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
  { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1', repository: '192.168.1.1' },
  { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
  { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
  { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
  { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
  { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo', tag: '5050' },
  { input: '[2001:db8::1]', err: 'format' },
  { input: '[2001:db8::1]:5000', err: 'format' },
  { input: '[2001:db8::1]:tag', err: 'format' },
  { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', domain: '[2001:db8:1:2:3:4:5:6]', repository: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' },
  { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
  { input: '[2001:db8::1]:5000/repo:tag', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', tag: 'tag' },
  { input: `[2001:db8::1]:5000/repo@sha256:${F64}`, domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', digest: `sha256:${F64}` },
  { input: `[2001:db8::1]:5000/repo:tag@sha256:${F64}`, domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', tag: 'tag', digest: `sha256:${F64}` },
  { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', repository: '[2001:db8::]:5000/repo' },
  { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
  { input: '[fe80::1%eth0]:5000/repo', err: 'format' },
  { input: '[fe80::1%@invalidzone]:5000/repo', err: 'format' },
];

describe('raw grammar (distribution/reference Parse)', () => {
  test.each(rawCases.map((c) => [c.input.length > 60 ? `${c.input.slice(0, 57)}...` : c.input, c] as const))('%s', (_name, c) => {
    if (c.err) {
      let err: unknown;
      try {
        parseReferenceRaw(c.input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidReferenceError);
      expect((err as InvalidReferenceError).reason).toBe(c.err);
      expect((err as InvalidReferenceError).code).toBe('INVALID_REFERENCE');
      return;
    }
    const r = parseReferenceRaw(c.input);
    expect(r.domain ? `${r.domain}/${r.path}` : r.path).toBe(c.repository);
    expect(r.domain).toBe(c.domain ?? '');
    expect(r.tag).toBe(c.tag);
    expect(r.digest).toBe(c.digest);
  });
});

describe('normalized names (ParseNormalizedNamed)', () => {
  // TestValidateReferenceName + TestValidateRemoteName.
  test.each([
    'docker/docker', 'library/debian', 'debian', 'docker.io/docker/docker', 'docker.io/library/debian', 'docker.io/debian',
    'index.docker.io/docker/docker', 'index.docker.io/library/debian', 'index.docker.io/debian', '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian', '127.0.0.1:5000/debian', '192.168.0.1', '192.168.0.1:80', '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian', 'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker', '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'Docker/docker', 'DOCKER/docker',
    'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker',
  ])('valid: %s', (name) => {
    expect(() => parseReference(name)).not.toThrow();
  });

  test.each([
    'https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker', '-docker.io/docker/docker', 'docker///docker',
    'docker.io/docker/Docker', 'docker.io/docker///docker', '[fc00::1]', '[fc00::1]:5000', 'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian', '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'docker-/docker', '-docker-/docker', '____/____',
    '_docker/_docker', 'dock..er/docker', 'dock_.er/docker', 'dock-.er/docker', 'docker/',
    `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
  ])('invalid: %s', (name) => {
    expect(() => parseReference(name)).toThrow(InvalidReferenceError);
  });

  // TestParseRepositoryInfo: every spelling gives the same familiar name, full name, domain, path.
  test.each([
    { path: 'fooo/bar', familiar: 'fooo/bar', full: 'docker.io/fooo/bar', ambiguous: 'index.docker.io/fooo/bar', domain: 'docker.io' },
    { path: 'library/ubuntu', familiar: 'ubuntu', full: 'docker.io/library/ubuntu', ambiguous: 'library/ubuntu', domain: 'docker.io' },
    { path: 'nonlibrary/ubuntu', familiar: 'nonlibrary/ubuntu', full: 'docker.io/nonlibrary/ubuntu', domain: 'docker.io' },
    { path: 'other/library', familiar: 'other/library', full: 'docker.io/other/library', domain: 'docker.io' },
    { path: 'private/moonbase', familiar: '127.0.0.1:8000/private/moonbase', full: '127.0.0.1:8000/private/moonbase', domain: '127.0.0.1:8000' },
    { path: 'privatebase', familiar: '127.0.0.1:8000/privatebase', full: '127.0.0.1:8000/privatebase', domain: '127.0.0.1:8000' },
    { path: 'private/moonbase', familiar: 'example.com/private/moonbase', full: 'example.com/private/moonbase', domain: 'example.com' },
    { path: 'privatebase', familiar: 'example.com/privatebase', full: 'example.com/privatebase', domain: 'example.com' },
    { path: 'private/moonbase', familiar: 'example.com:8000/private/moonbase', full: 'example.com:8000/private/moonbase', domain: 'example.com:8000' },
    { path: 'privatebasee', familiar: 'example.com:8000/privatebasee', full: 'example.com:8000/privatebasee', domain: 'example.com:8000' },
    { path: 'library/ubuntu-12.04-base', familiar: 'ubuntu-12.04-base', full: 'docker.io/library/ubuntu-12.04-base', ambiguous: 'index.docker.io/library/ubuntu-12.04-base', domain: 'docker.io' },
    { path: 'library/foo', familiar: 'foo', full: 'docker.io/library/foo', ambiguous: 'docker.io/foo', domain: 'docker.io' },
    { path: 'library/foo/bar', familiar: 'library/foo/bar', full: 'docker.io/library/foo/bar', domain: 'docker.io' },
    { path: 'store/foo/bar', familiar: 'store/foo/bar', full: 'docker.io/store/foo/bar', domain: 'docker.io' },
    { path: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', domain: 'Foo' },
    { path: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', domain: 'FOO' },
  ])('repository info of $full', (tc) => {
    for (const spelling of [tc.familiar, tc.full, ...(tc.ambiguous ? [tc.ambiguous] : [])]) {
      const r = parseReference(spelling);
      expect({ spelling, familiar: familiarName(r), full: repositoryName(r), domain: r.domain, path: r.path }).toEqual({ spelling, familiar: tc.familiar, full: tc.full, domain: tc.domain, path: tc.path });
    }
  });

  // TestNormalizedSplitHostname.
  test.each([
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
  ])('%s splits into %s + %s', (input, domain, path) => {
    expect(parseReference(input)).toMatchObject({ domain, path });
  });

  test('name:tag@digest keeps both (TestParseReferenceWithTagAndDigest)', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const r = parseReference(short);
    expect(formatReference(r)).toBe(`docker.io/library/${short}`);
    expect(familiarString(r)).toBe(short);
  });
});

describe('what tsbuild users type', () => {
  test.each([
    ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['alpine:3.19', 'docker.io/library/alpine:3.19', 'alpine:3.19'],
    ['myorg/app', 'docker.io/myorg/app:latest', 'myorg/app:latest'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/team/app:v2', 'localhost:5000/team/app:v2', 'localhost:5000/team/app:v2'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest', '127.0.0.1:5000/app:latest'],
    [`ghcr.io/o/app@sha256:${F64}`, `ghcr.io/o/app@sha256:${F64}`, `ghcr.io/o/app@sha256:${F64}`],
  ])('%s → %s (shown as %s)', (input, full, familiar) => {
    const r = withDefaultTag(parseReference(input));
    expect(formatReference(r)).toBe(full);
    expect(familiarString(r)).toBe(familiar);
  });

  test.each([
    ['Alpine', 'invalid reference format: repository name must be lowercase: "Alpine"'],
    ['myorg/App:1', 'invalid reference format: repository name must be lowercase: "myorg/App:1"'],
    ['alpine:', 'invalid reference format: "alpine:"'],
    ['alpine:bad tag', 'invalid reference format: "alpine:bad tag"'],
    [`alpine:${'t'.repeat(129)}`, `invalid reference format: "alpine:${'t'.repeat(129)}"`],
    ['alpine@sha256:abc', 'invalid reference format: "alpine@sha256:abc"'],
    [`alpine@md5:${F64}`, `invalid reference format: unsupported digest algorithm: "alpine@md5:${F64}"`],
    [F64, `invalid repository name, cannot specify 64-byte hexadecimal strings: "${F64}"`],
    ['', 'invalid reference format: ""'],
  ])('%p is rejected: %s', (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });
});
