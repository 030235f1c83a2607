/**
 * `type=image` (the default): the image goes into the local image store under its names; without
 * a name it is kept untagged (`<none>`), as docker keeps an untagged build. A name that moves
 * leaves its old image dangling.
 *
 * Its layers are stored uncompressed, as Docker's store keeps them: compressing is the slow part of
 * making a layer, and a layer that never leaves the machine never needs it. The output's
 * `compression=` options (checked here, so a typo fails the build) apply when it is pushed.
 */
import { putName, putUntagged } from '../cache/dangling-images.js';
import { normalizeImageRef } from '../oci/reference.js';
import { buildImage, layerOptions } from './image-build.js';
import type { Exporter, ExportContext, ExportRequest, ExportResponse } from './types.js';

export class ImageStoreExporter implements Exporter {
  readonly type = 'image';

  async export(req: ExportRequest, ctx: ExportContext): Promise<ExportResponse> {
    const row = (id: string, started: number): void => ctx.progress.status({ id, current: 0, started, completed: Date.now() });
    let started = Date.now();
    layerOptions(req.attrs);
    const img = await buildImage(req, ctx, 'oci', { compression: 'uncompressed' });
    row('exporting layers', started);
    started = Date.now();
    const names = [...req.names, ...(req.attrs.get('name')?.split(',').filter(Boolean).map(normalizeImageRef) ?? [])];
    const target = { manifestDigest: img.manifestDescriptor.digest, configDigest: img.configDescriptor.digest, mediaType: img.manifest.mediaType };
    ctx.storage.db.write(() => {
      if (names.length === 0) putUntagged(ctx.storage.images, target);
      for (const name of new Set(names)) putName(ctx.storage.images, name, target);
    });
    // Docker's rows: the image ID is the config digest.
    row(`writing image ${target.configDigest}`, started);
    for (const name of new Set(names)) row(`naming to ${name}`, Date.now());
    return {
      imageDigest: img.manifestDescriptor.digest,
      configDigest: img.configDescriptor.digest,
      ...(names.length ? { metadata: { 'image.name': [...new Set(names)].join(',') } } : {}),
    };
  }
}
