/** `type=oci` and `type=docker`: an image archive written to `dest` (a file, or `-` for stdout). */
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { UserInputError } from '../util/errors.js';
import { normalizeImageRef } from '../oci/reference.js';
import { buildImage, configPlatform } from './image-build.js';
import { annotationsFor, annotationsOf } from './annotations.js';
import { writeImageArchive } from './archive.js';
import type { Exporter, ExportContext, ExportRequest, ExportResponse } from './types.js';

export class ArchiveExporter implements Exporter {
  constructor(readonly type: 'oci' | 'docker') {}

  async export(req: ExportRequest, ctx: ExportContext): Promise<ExportResponse> {
    const dest = req.attrs.get('dest');
    if (!dest) throw new UserInputError('INVALID_OUTPUT', `output type=${this.type} needs dest=FILE (or dest=- for stdout)`);
    const img = await buildImage(req, ctx, this.type === 'docker' ? 'docker' : 'oci');
    const extra = req.attrs.get('name')?.split(',').filter(Boolean).map(normalizeImageRef) ?? [];
    const names = [...new Set([...req.names, ...extra])];
    const out = await ctx.openOutput(dest);
    const descriptorAnnotations = annotationsFor(annotationsOf(req.attrs), 'manifest-descriptor', configPlatform(req));
    const images = (names.length ? names : [undefined]).map((name) => ({
      name,
      descriptorAnnotations,
      manifestDescriptor: img.manifestDescriptor,
      manifestBytes: img.manifestBytes,
      configDescriptor: img.configDescriptor,
      configBytes: img.configBytes,
      layers: img.manifest.layers,
    }));
    const pass = new PassThrough();
    // Both sides are awaited together: a write error on `out` (a full disk) rejects `done` while the
    // archive is still being written, and must neither go unhandled nor leave the writer waiting.
    await Promise.all([
      pipeline(pass, out),
      writeImageArchive(pass, images, (d) => ctx.storage.content.reader(d, { signal: ctx.signal }), {
        format: this.type,
        signal: ctx.signal,
        ...(req.sourceDateEpoch !== undefined ? { mtime: req.sourceDateEpoch } : {}),
      }),
    ]);
    return { imageDigest: img.manifestDescriptor.digest, configDigest: img.configDescriptor.digest };
  }
}
