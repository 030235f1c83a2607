/**
 * Output annotation attributes (src/exporter/annotations.ts) and buildx's `--annotation` values
 * as they become them (src/client/build-flags.ts parseAnnotations).
 */
import { describe, expect, test } from '@jest/globals';
import { parseAnnotations } from '../../src/client/build-flags.js';
import { annotationsFor, annotationsOf, checkedAnnotations } from '../../src/exporter/annotations.js';
import { UsageError, UserInputError } from '../../src/util/errors.js';

describe('--annotation values', () => {
  test('KEY=VALUE is the manifest; TYPE[,TYPE][[PLATFORM]]:KEY=VALUE names where', () => {
    expect(parseAnnotations([
      'org.opencontainers.image.description=a=b',
      'index:org.opencontainers.image.title=t',
      'manifest,manifest-descriptor:both=1',
      'manifest[linux/arm64]:arm=yes',
      'index-descriptor:idx=2',
    ])).toEqual({
      'annotation.org.opencontainers.image.description': 'a=b',
      'annotation-index.org.opencontainers.image.title': 't',
      'annotation-manifest.both': '1',
      'annotation-manifest-descriptor.both': '1',
      'annotation-manifest[linux/arm64].arm': 'yes',
      'annotation-index-descriptor.idx': '2',
    });
  });

  test.each([
    ['novalue', 'expected KEY=VALUE or TYPE:KEY=VALUE'],
    ['bogus:k=v', 'unknown annotation type "bogus" (manifest, index, manifest-descriptor, index-descriptor)'],
    ['manifest,nope:k=v', 'unknown annotation type "nope" (manifest, index, manifest-descriptor, index-descriptor)'],
    ['a:b:c=v', 'unknown annotation type "a" (manifest, index, manifest-descriptor, index-descriptor)'],
    ['x:y=v', 'unknown annotation type "x" (manifest, index, manifest-descriptor, index-descriptor)'],
  ])('%s is refused', (v, why) => {
    expect(() => parseAnnotations([v], 'build: ')).toThrow(new UsageError(`build: invalid --annotation "${v}": ${why}`));
  });
});

describe('annotation attributes', () => {
  const attrs = new Map([
    ['dest', 'out.tar'],
    ['annotation.all', '1'],
    ['annotation-manifest[linux/arm64/v8].arm', 'yes'],
    ['annotation-manifest-descriptor[linux/amd64].amd', 'd'],
    ['annotation-index.title', 't'],
    ['annotation-index-descriptor.idx', '2'],
  ]);

  test('each target gets its own, a platform only its own (arm64 and arm64/v8 are one platform)', () => {
    const list = annotationsOf(attrs);
    expect(annotationsFor(list, 'manifest', 'linux/amd64')).toEqual({ all: '1' });
    expect(annotationsFor(list, 'manifest', 'linux/arm64')).toEqual({ all: '1', arm: 'yes' });
    expect(annotationsFor(list, 'manifest-descriptor', 'linux/amd64')).toEqual({ amd: 'd' });
    expect(annotationsFor(list, 'manifest-descriptor', 'linux/arm64')).toBeUndefined();
    expect(annotationsFor(list, 'index')).toEqual({ title: 't' });
    expect(annotationsFor(list, 'index-descriptor')).toEqual({ idx: '2' });
    expect(annotationsOf(new Map([['dest', 'x']]))).toEqual([]);
  });

  test.each([
    ['annotation.', 'the annotation key is empty'],
    ['annotation-config.k', 'expected annotation.KEY or annotation-(manifest|index|manifest-descriptor|index-descriptor)[PLATFORM].KEY'],
    ['annotation-index[linux/amd64].k', 'index annotations apply to every platform'],
    ['annotation-manifest[linux/bogus/x/y].k', 'invalid platform "linux/bogus/x/y"'],
  ])('%s is refused', (attr, why) => {
    expect(() => annotationsOf(new Map([[attr, 'v']]))).toThrow(UserInputError);
    expect(() => annotationsOf(new Map([[attr, 'v']]))).toThrow(why);
  });

  test('a Docker archive refuses manifest annotations (it has no place for them); descriptor ones pass', () => {
    expect(() => checkedAnnotations('docker', new Map([['dest', 'x.tar'], ['annotation.k', 'v']]))).toThrow('type=docker writes Docker manifests, which hold no annotations');
    expect(checkedAnnotations('docker', new Map([['dest', 'x.tar'], ['annotation-manifest-descriptor.k', 'v']]))).toHaveLength(1);
    expect(checkedAnnotations('oci', new Map([['dest', 'x.tar'], ['annotation.k', 'v']]))).toHaveLength(1);
  });
});
