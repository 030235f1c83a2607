/** Manifest parsing: media types from the document or the header, shape checks, clear errors. */
import { describe, expect, test } from '@jest/globals';
import { MediaType } from '../../src/oci/types.js';
import { MANIFEST_ACCEPT, parseManifest } from '../../src/registry/manifest.js';
import { validateDigest } from '../../src/oci/digest.js';

const D = `sha256:${'a'.repeat(64)}`;
const desc = { mediaType: MediaType.ociLayerGzip, digest: D, size: 3 };
const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseManifest', () => {
  test('the Accept header lists indexes and manifests of both families', () => {
    expect(MANIFEST_ACCEPT.split(', ').sort()).toEqual([MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociIndex, MediaType.ociManifest].sort());
  });

  test('image manifests and indexes, typed by the document or by Content-Type', () => {
    expect(parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: desc, layers: [desc] }), undefined, 'x').kind).toBe('image');
    const untyped = parseManifest(buf({ schemaVersion: 2, config: desc, layers: [] }), `${MediaType.ociManifest}; charset=utf-8`, 'x');
    expect(untyped).toMatchObject({ kind: 'image', mediaType: MediaType.ociManifest });
    expect(parseManifest(buf({ schemaVersion: 2, manifests: [desc] }), 'application/json', 'x')).toMatchObject({ kind: 'index', mediaType: MediaType.ociIndex });
    expect(parseManifest(buf({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [] }), undefined, 'x').kind).toBe('index');
  });

  test.each([
    ['not JSON', 'nope{', 'MANIFEST_INVALID', /^pull r: malformed manifest: not JSON/],
    ['an array', [], 'MANIFEST_INVALID', /not a JSON object/],
    ['schema 1', { schemaVersion: 1, fsLayers: [] }, 'MANIFEST_UNSUPPORTED', /schema 1 manifests are not supported/],
    ['schemaVersion 3', { schemaVersion: 3 }, 'MANIFEST_INVALID', /schemaVersion 3 is not 2/],
    ['no layers', { schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc }, 'MANIFEST_INVALID', /no layers array/],
    ['bad size', { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { ...desc, size: -1 }, layers: [] }, 'MANIFEST_INVALID', /config\.size -1 is not a non-negative integer/],
    ['bad layer digest', { schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc, layers: [{ ...desc, digest: 'sha256:XYZ' }] }, 'MANIFEST_INVALID', /layers\[0\]\.digest "sha256:XYZ" is not a valid digest/],
    ['index without manifests', { schemaVersion: 2, mediaType: MediaType.ociIndex }, 'MANIFEST_INVALID', /index has no manifests array/],
    ['an unknown type', { schemaVersion: 2, mediaType: 'application/vnd.example+json' }, 'MANIFEST_UNSUPPORTED', /unsupported manifest media type "application\/vnd\.example\+json"/],
  ])('%s is rejected', (_name, doc, code, message) => {
    expect(() => parseManifest(buf(doc), undefined, 'pull r')).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});

describe('validateDigest', () => {
  test.each([
    [D, undefined],
    [`sha512:${'b'.repeat(128)}`, undefined],
    ['sha256', 'digest-format'],
    [`sha256:${'A'.repeat(64)}`, 'digest-format'],
    ['sha256:abc', 'digest-length'],
    [`md5:${'a'.repeat(32)}`, 'digest-unsupported'],
    ['no pe:abc', 'digest-format'],
  ])('%s', (d, reason) => {
    if (reason === undefined) expect(() => validateDigest(d)).not.toThrow();
    else expect(() => validateDigest(d)).toThrow(expect.objectContaining({ reason }));
  });
});
