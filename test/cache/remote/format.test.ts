/**
 * The cache document and the flag syntax: records share layers by chain id, empty layers carry no
 * blob, inline documents carry none at all; the parser refuses every malformed field with a
 * message naming the cache (parents must point at earlier layers, so chains always end); buildx's
 * `--cache-to` / `--cache-from` values parse, and mistakes are one clear error.
 */
import { describe, expect, test } from '@jest/globals';
import { buildCacheConfig } from '../../../src/cache/remote/cache-builder.js';
import { chainIds as chainIdsOf } from '../../../src/oci/chain-id.js';
import { EMPTY_LAYER_DIFF_ID, parseCacheConfig, serializeCacheConfig } from '../../../src/cache/remote/cache-config.js';
import { parseCacheExportSpec, parseCacheImportSpec } from '../../../src/client/build-flags.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const blob = (c: string) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(c), size: 100 });

describe('building the document', () => {
  const base = { diffId: d('1'), blob: blob('a') };
  const records = [
    { key: 'k-from', output: 0, recordType: 'source.image' as const, description: 'FROM', inputs: [], chain: [base] },
    { key: 'k-run', output: 0, recordType: 'regular' as const, description: 'RUN', inputs: ['k-from'], chain: [base, { diffId: EMPTY_LAYER_DIFF_ID, blob: blob('e') }] },
    { key: 'k-copy', output: 0, recordType: 'regular' as const, description: 'COPY', inputs: ['k-run'], chain: [base, { diffId: EMPTY_LAYER_DIFF_ID, blob: blob('e') }, { diffId: d('3'), blob: blob('c') }] },
    { key: 'k-run', output: 0, recordType: 'regular' as const, description: 'dup', inputs: [], chain: [] },
  ];

  test('layers are shared by chain id; empty layers have no blob; duplicates are dropped', () => {
    const built = buildCacheConfig(records, { omitBlobs: false });
    expect(built.config.layers).toEqual([
      { diffId: d('1'), parent: -1, blob: blob('a') },
      { diffId: EMPTY_LAYER_DIFF_ID, parent: 0 },
      { diffId: d('3'), parent: 1, blob: blob('c') },
    ]);
    expect(built.config.records.map((r) => [r.key, r.layer, r.inputs])).toEqual([['k-from', 0, []], ['k-run', 1, ['k-from']], ['k-copy', 2, ['k-run']]]);
    expect(built.blobs.map((b) => b.digest)).toEqual([d('a'), d('c')]);
    // What is written is what is read back.
    expect(parseCacheConfig(serializeCacheConfig(built.config), 'x')).toEqual(built.config);
  });

  test('inline documents carry no blobs (the image has them)', () => {
    const built = buildCacheConfig(records, { omitBlobs: true });
    expect(built.blobs).toEqual([]);
    expect(built.config.layers.every((l) => l.blob === undefined)).toBe(true);
  });

  test('chain ids follow the OCI definition', () => {
    const [c1, c2] = chainIdsOf([d('1'), d('2')]);
    expect(c1).toBe(d('1'));
    expect(c2).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(c2).not.toBe(d('2'));
  });
});

describe('parsing untrusted documents', () => {
  const ok = { version: 'tsbuild.cache.v0', layers: [{ diffId: d('1'), parent: -1 }], records: [{ key: 'k', output: 0, recordType: 'regular', description: '', inputs: [], layer: 0 }] };
  const bad: [string, unknown, RegExp][] = [
    ['not JSON', 'nope', /not JSON/],
    ['wrong version', { ...ok, version: 'v9' }, /unknown version "v9"/],
    ['layers missing', { ...ok, layers: 3 }, /layers is not an array/],
    ['bad diffId', { ...ok, layers: [{ diffId: 'sha256:xyz', parent: -1 }] }, /layers\[0\]\.diffId is not a sha256 digest/],
    ['forward parent (a cycle)', { ...ok, layers: [{ diffId: d('1'), parent: 0 }] }, /layers\[0\]\.parent must be -1 or the index of an earlier layer/],
    ['bad blob', { ...ok, layers: [{ diffId: d('1'), parent: -1, blob: { mediaType: 'x', digest: 'md5:1', size: 1 } }] }, /layers\[0\]\.blob\.digest/],
    ['negative size', { ...ok, layers: [{ diffId: d('1'), parent: -1, blob: { mediaType: 'x', digest: d('a'), size: -1 } }] }, /blob\.size is not a byte count/],
    ['layer out of range', { ...ok, records: [{ ...ok.records[0], layer: 5 }] }, /records\[0\]\.layer/],
    ['inputs not keys', { ...ok, records: [{ ...ok.records[0], inputs: [1] }] }, /records\[0\]\.inputs/],
  ];
  test.each(bad)('%s', (_name, doc, why) => {
    const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    expect(() => parseCacheConfig(bytes, 'reg:5000/cache:1')).toThrow(expect.objectContaining({ code: 'CACHE_MANIFEST_INVALID', message: expect.stringMatching(why) }));
    expect(() => parseCacheConfig(bytes, 'reg:5000/cache:1')).toThrow(/^reg:5000\/cache:1: invalid cache metadata: /);
  });
});

describe('--cache-to / --cache-from values', () => {
  test('buildx syntax', () => {
    expect(parseCacheExportSpec('type=registry,ref=reg:5000/app:cache,mode=max')).toEqual({ kind: 'registry', ref: 'reg:5000/app:cache', mode: 'max', ignoreError: false });
    expect(parseCacheExportSpec('type=registry,ref=r/a:c,image-manifest=true,oci-mediatypes=true,ignore-error=true')).toEqual({ kind: 'registry', ref: 'r/a:c', mode: 'min', ignoreError: true });
    expect(parseCacheExportSpec('type=local,dest=/tmp/c')).toEqual({ kind: 'local', dest: '/tmp/c', mode: 'min', tag: 'latest', ignoreError: false });
    expect(parseCacheExportSpec('type=inline')).toEqual({ kind: 'inline' });
    // Layer compression as buildx has it (values checked by the engine); an inline cache ignores it.
    expect(parseCacheExportSpec('type=registry,ref=r/a:c,compression=zstd,compression-level=5,force-compression=true')).toEqual({
      kind: 'registry', ref: 'r/a:c', mode: 'min', ignoreError: false, compression: 'zstd', compressionLevel: '5', forceCompression: true,
    });
    expect(parseCacheExportSpec('type=local,dest=/tmp/c,compression=uncompressed,force-compression=false')).toEqual({
      kind: 'local', dest: '/tmp/c', mode: 'min', tag: 'latest', ignoreError: false, compression: 'uncompressed', forceCompression: false,
    });
    expect(parseCacheExportSpec('type=inline,compression=zstd')).toEqual({ kind: 'inline' });
    expect(parseCacheImportSpec('reg:5000/app:cache')).toEqual({ kind: 'registry', ref: 'reg:5000/app:cache' });
    expect(parseCacheImportSpec('type=local,src=/tmp/c,tag=main')).toEqual({ kind: 'local', src: '/tmp/c', tag: 'main' });
  });

  test.each([
    ['to', 'type=registry', /ref= is required/],
    ['to', 'ref=x', /type= is required/],
    ['to', 'type=s3,bucket=b', /unsupported type "s3"/],
    ['to', 'type=registry,ref=x,mode=all', /mode must be min or max/],
    ['to', 'type=registry,ref=x,refs=y', /unknown attribute "refs" \(did you mean ref\?\)/],
    ['to', 'type=inline,mode=max', /inline cache supports mode=min only/],
    ['to', 'type=local,dest=/x,ignore-error=maybe', /ignore-error must be true or false/],
    ['to', 'type=registry,ref=x,force-compression=yes', /force-compression must be true or false/],
    ['from', 'type=local', /src= is required/],
    ['from', 'type=local,src=/x,digest=abc', /digest "abc" is not a sha256 digest/],
    ['from', 'type=registry,ref=a,ref=b', /ref is given twice/],
  ])('--cache-%s %s', (which, spec, why) => {
    const parse = which === 'to' ? parseCacheExportSpec : parseCacheImportSpec;
    expect(() => parse(spec)).toThrow(expect.objectContaining({ code: 'INVALID_CACHE_SPEC', message: expect.stringMatching(why) }));
  });
});
