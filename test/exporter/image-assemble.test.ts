/**
 * Image assembly pairs layers with history: one layer per filesystem step, as Docker's BuildKit
 * builds do, so a step that changed nothing (an empty tar) keeps its layer and its non-empty history
 * entry; the config's diff_ids and the manifest's layers stay in step.
 */
import { describe, expect, test } from '@jest/globals';
import { EMPTY_TAR_DIFF_ID, assembleImage, normalizeLayersAndHistory } from '../../src/exporter/image-assemble.js';
import type { LayerBlobInfo } from '../../src/exporter/layer-blob.js';
import type { ImageConfig } from '../../src/oci/types.js';

const layer = (n: string, diffId = `sha256:${n.repeat(64)}`): LayerBlobInfo => ({ digest: `sha256:${n.repeat(64).replace(/./, 'f')}`, size: 32, diffId, uncompressedSize: 1024, compression: 'gzip' });
const empty = layer('e', EMPTY_TAR_DIFF_ID);

describe('layers and history', () => {
  test('an empty layer is kept with its non-empty history entry', () => {
    const history = [{ created_by: 'base' }, { created_by: 'WORKDIR /tmp' }, { created_by: 'LABEL a=b', empty_layer: true }, { created_by: 'RUN /bin/sh -c true # buildkit' }, { created_by: 'COPY a /a # buildkit' }];
    const r = normalizeLayersAndHistory([layer('1'), empty, empty, layer('2')], history);
    expect(r.layers.map((l) => l.diffId)).toEqual([layer('1').diffId, EMPTY_TAR_DIFF_ID, EMPTY_TAR_DIFF_ID, layer('2').diffId]);
    expect(r.history.map((h) => h.empty_layer === true)).toEqual([false, false, true, false, false]);
  });

  test('the manifest lists every layer, a repeated empty one too, and diff_ids match', () => {
    const config: ImageConfig = {
      architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] },
      history: [{ created_by: 'base' }, { created_by: 'RUN /bin/sh -c true # buildkit' }, { created_by: 'WORKDIR /tmp' }],
    };
    const img = assembleImage({ config, layers: [layer('1'), empty, empty], flavour: 'oci', created: '2024-01-01T00:00:00Z' });
    expect(img.manifest.layers.map((l) => l.digest)).toEqual([layer('1').digest, empty.digest, empty.digest]);
    expect(img.config.rootfs.diff_ids).toEqual([layer('1').diffId, EMPTY_TAR_DIFF_ID, EMPTY_TAR_DIFF_ID]);
    expect(img.config.history?.some((h) => h.empty_layer)).toBe(false);
  });

  test('more non-empty history entries than layers: the missing ones are marked empty', () => {
    const r = normalizeLayersAndHistory([layer('1')], [{ created_by: 'base' }, { created_by: 'RUN x # buildkit' }]);
    expect(r.history).toEqual([{ created_by: 'base' }, { created_by: 'RUN x # buildkit', empty_layer: true }]);
  });
});
