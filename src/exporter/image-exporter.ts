/** `type=image` (the default with `-t`): the image goes into the local image store under its names. */
import { normalizeImageRef } from '../llb/image-ref.js';
import { buildImage } from './image-build.js';
import type { Exporter, ExportContext, ExportRequest, ExportResponse } from './types.js';

export class ImageStoreExporter implements Exporter {
  readonly type = 'image';

  async export(req: ExportRequest, ctx: ExportContext): Promise<ExportResponse> {
    const img = await buildImage(req, ctx, 'oci');
    const names = [...req.names, ...(req.attrs.get('name')?.split(',').filter(Boolean).map(normalizeImageRef) ?? [])];
    for (const name of new Set(names)) {
      ctx.storage.images.put({ name, manifestDigest: img.manifestDescriptor.digest, configDigest: img.configDescriptor.digest, mediaType: img.manifest.mediaType });
    }
    return {
      imageDigest: img.manifestDescriptor.digest,
      configDigest: img.configDescriptor.digest,
      ...(names.length ? { metadata: { 'image.name': [...new Set(names)].join(',') } } : {}),
    };
  }
}
