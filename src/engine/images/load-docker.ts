/**
 * The docker side of `image load`: `manifest.json` as `docker save` writes it. Two flavours:
 *  - Docker 20.10's legacy layout: `Config: "<hex>.json"`, `Layers: ["<id>/layer.tar"]`,
 *    uncompressed layers, no image manifest at all. One is built here (Docker media types) from the
 *    config and the layers' digests, after checking the config's rootfs.diff_ids are exactly those
 *    digests.
 *  - The OCI-layout-flavoured one (BuildKit's and tsbuild's `type=docker`, Docker 25+):
 *    `Config`/`Layers` point into `blobs/sha256/`, and `index.json` holds the real manifest, which
 *    is kept as is (so the manifest digest survives the round trip).
 * Names come from `RepoTags` (or, when it is empty, the matching index entries' annotations).
 */
import type { ImageConfig, ImageManifest } from '../../oci/types.js';
import { MediaType } from '../../oci/types.js';
import { normalizeImageRef } from '../../oci/reference.js';
import { errorMessage } from '../../util/errors.js';
import type { LayerSizes } from '../layer-sizes.js';
import type { LoadContext, PlannedImage } from './load-context.js';
import type { LeafManifest } from './load-oci.js';

interface ManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

function repoTags(ctx: LoadContext, v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) throw ctx.error('IMAGE_LOAD_INVALID', where, '"RepoTags" must be an array of strings');
  return (v as string[]).map((t) => {
    try {
      return normalizeImageRef(t);
    } catch (e) {
      throw ctx.error('IMAGE_LOAD_INVALID', where, `invalid RepoTags entry ${JSON.stringify(t)}: ${errorMessage(e)}`);
    }
  });
}

function sameLayers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Checks each layer against the config's diff_id. An uncompressed layer's digest is its diff_id;
 * a compressed one is measured (once, remembered) only when `measureCompressed` — images whose
 * manifest came with the archive are checked again when their layers are unpacked.
 */
async function checkDiffIds(ctx: LoadContext, sizes: LayerSizes, layers: readonly string[], config: ImageConfig, where: string, measureCompressed: boolean): Promise<string[]> {
  const diffIds = config.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length) {
    throw ctx.error('IMAGE_LOAD_INVALID', where, `the config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids for ${layers.length} layers`);
  }
  const mediaTypes: string[] = [];
  for (const [i, digest] of layers.entries()) {
    const compression = await ctx.compressionOf(digest);
    let diffId: string | undefined;
    switch (compression) {
      case 'none':
        diffId = digest;
        mediaTypes.push(MediaType.dockerLayer);
        break;
      case 'gzip':
        if (measureCompressed) diffId = (await sizes.of(digest, { signal: ctx.signal })).diffId;
        mediaTypes.push(MediaType.dockerLayerGzip);
        break;
      case 'zstd':
      case 'xz':
      case 'bzip2':
        throw ctx.error('IMAGE_LOAD_UNSUPPORTED', where, `layer ${i + 1} is ${compression}-compressed; tsbuild reads uncompressed and gzip layers`);
    }
    if (diffId !== undefined && diffId !== diffIds[i]) {
      throw ctx.error('IMAGE_LOAD_DIFF_ID_MISMATCH', where, `layer ${i + 1} (${digest}) has diff_id ${diffId}, but the config's rootfs.diff_ids says ${String(diffIds[i])}`);
    }
  }
  return mediaTypes;
}

/** One image per manifest.json entry. */
export async function planDockerArchive(ctx: LoadContext, manifestJson: Buffer, leaves: readonly LeafManifest[], sizes: LayerSizes): Promise<PlannedImage[]> {
  const entries = ctx.parseJson<unknown>(manifestJson, 'manifest.json');
  if (!Array.isArray(entries)) throw ctx.error('IMAGE_LOAD_INVALID', 'manifest.json', 'expected an array of images');
  const out: PlannedImage[] = [];
  for (const [i, raw] of entries.entries()) {
    const where = `manifest.json[${i}]`;
    const e = (raw ?? {}) as ManifestEntry;
    if (typeof e.Config !== 'string') throw ctx.error('IMAGE_LOAD_INVALID', where, '"Config" must name the config file');
    if (!Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== 'string')) throw ctx.error('IMAGE_LOAD_INVALID', where, '"Layers" must be an array of file names');
    const names = repoTags(ctx, e.RepoTags, where);
    const configFile = ctx.file(e.Config, where);
    const layers = (e.Layers as string[]).map((l) => ctx.file(l, where).digest);
    const config = await ctx.readJsonBlob<ImageConfig>(configFile.digest, `${where} config`);

    const leaf = leaves.find((l) => l.configDigest === configFile.digest && sameLayers(l.layerDigests, layers));
    if (leaf) {
      await checkDiffIds(ctx, sizes, layers, config, where, false);
      // RepoTags name the image, as for docker; index.json names only stand in when it has none.
      const fallback = names.length > 0 ? [] : leaves.filter((l) => l.digest === leaf.digest).flatMap((l) => l.names);
      out.push({ names: [...new Set([...names, ...fallback])], manifestDigest: leaf.digest, mediaType: leaf.mediaType, configDigest: configFile.digest });
      continue;
    }
    const mediaTypes = await checkDiffIds(ctx, sizes, layers, config, where, true);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: configFile.digest, size: configFile.size },
      layers: await Promise.all(layers.map(async (digest, j) => ({
        mediaType: mediaTypes[j] as string,
        digest,
        size: (await ctx.storage.content.info(digest, { signal: ctx.signal }))?.size ?? 0,
      }))),
    };
    const manifestDigest = await ctx.putBlob(Buffer.from(JSON.stringify(manifest)));
    out.push({ names, manifestDigest, mediaType: MediaType.dockerManifest, configDigest: configFile.digest });
  }
  return out;
}
