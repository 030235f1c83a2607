/**
 * The OCI side of `image load`: walks `index.json` (and nested indexes) of an OCI image layout,
 * checks every blob the images need is present with the size its descriptor claims, and names
 * images from their annotations: `io.containerd.image.name` (a full reference, as containerd,
 * BuildKit and tsbuild write it) or `org.opencontainers.image.ref.name` when that holds a full
 * reference rather than just a tag.
 */
import type { Descriptor, ImageConfig } from '../../oci/types.js';
import { MediaType } from '../../oci/types.js';
import { normalizeImageRef } from '../../oci/reference.js';
import { errorMessage } from '../../util/errors.js';
import type { LoadContext, PlannedImage } from './load-context.js';

/** A leaf image manifest found in the layout (for matching docker's manifest.json entries). */
export interface LeafManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly configDigest: string;
  readonly layerDigests: readonly string[];
  readonly names: readonly string[];
}

export interface OciPlan {
  readonly images: PlannedImage[];
  readonly leaves: LeafManifest[];
}

interface Resolved {
  readonly kind: 'manifest' | 'index';
  readonly manifestDigest: string;
  readonly mediaType: string;
  readonly configDigest: string;
}

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
/** The platform the engine runs images for (as loadImageByDigest selects it). */
const PLATFORM = { os: 'linux', architecture: 'amd64' } as const;
const MAX_DEPTH = 8;

interface IndexDoc {
  mediaType?: unknown;
  manifests?: unknown;
}

interface ManifestDoc {
  mediaType?: unknown;
  config?: { digest?: unknown; size?: unknown; mediaType?: unknown };
  layers?: unknown;
}

/** Names an index entry's annotations give it (normalized), or none for a tag-only or absent name. */
export function annotationNames(ctx: LoadContext, annotations: unknown, where: string): string[] {
  if (typeof annotations !== 'object' || annotations === null) return [];
  const a = annotations as Record<string, unknown>;
  const full = a['io.containerd.image.name'];
  const ref = a['org.opencontainers.image.ref.name'];
  // ref.name is usually only a tag ("latest", "1.0"); it names an image only when it is a full
  // reference, which needs a repository path or registry (a "/") or a tag separator (":").
  const candidate = typeof full === 'string' && full !== '' ? full : typeof ref === 'string' && /[/:@]/.test(ref) ? ref : undefined;
  if (candidate === undefined) return [];
  try {
    return [normalizeImageRef(candidate)];
  } catch (e) {
    throw ctx.error('IMAGE_LOAD_INVALID', where, `invalid image name ${JSON.stringify(candidate)}: ${errorMessage(e)}`);
  }
}

function asDescriptors(ctx: LoadContext, v: unknown, where: string): Descriptor[] {
  if (!Array.isArray(v)) throw ctx.error('IMAGE_LOAD_INVALID', where, '"manifests" must be an array');
  for (const [i, d] of v.entries()) {
    if (typeof d !== 'object' || d === null) throw ctx.error('IMAGE_LOAD_INVALID', `${where} manifests[${i}]`, 'not a descriptor object');
  }
  return v as Descriptor[];
}

function pickPlatform(children: readonly Descriptor[]): Descriptor | undefined {
  return children.find((c) => c.platform?.os === PLATFORM.os && c.platform.architecture === PLATFORM.architecture)
    ?? (children.length === 1 ? children[0] : undefined);
}

class OciWalker {
  readonly images: PlannedImage[] = [];
  readonly leaves: LeafManifest[] = [];

  constructor(private readonly ctx: LoadContext) {}

  async visit(desc: Descriptor, where: string, depth: number): Promise<Resolved> {
    const ctx = this.ctx;
    const digest = await ctx.requireBlob(desc.digest, desc.size, where);
    const doc = await ctx.readJsonBlob<IndexDoc & ManifestDoc>(digest, where);
    const docType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
    if (INDEX_TYPES.has(desc.mediaType) || (docType !== undefined && INDEX_TYPES.has(docType)) || Array.isArray(doc.manifests)) {
      return this.visitIndex(digest, desc.mediaType ?? docType ?? MediaType.ociIndex, doc, where, depth);
    }
    return this.visitManifest(digest, desc, doc, where);
  }

  private async visitIndex(digest: string, mediaType: string, doc: IndexDoc, where: string, depth: number): Promise<Resolved> {
    const ctx = this.ctx;
    if (depth >= MAX_DEPTH) throw ctx.error('IMAGE_LOAD_INVALID', where, `indexes nested deeper than ${MAX_DEPTH} levels`);
    const children = asDescriptors(ctx, doc.manifests, where);
    const pick = pickPlatform(children);
    let chosen: Resolved | undefined;
    for (const [i, child] of children.entries()) {
      const at = `${where} → manifests[${i}]`;
      const names = annotationNames(ctx, child.annotations, at);
      // Other platforms' blobs are not needed (and often absent): only the one this engine runs,
      // and any entry that carries its own name, must be complete.
      if (child !== pick && names.length === 0) continue;
      const r = await this.visit(child, at, depth + 1);
      if (names.length > 0) this.images.push({ names, ...storeTarget(r) });
      if (child === pick) chosen = r;
    }
    if (!chosen) {
      throw ctx.error('IMAGE_LOAD_NO_PLATFORM', where, `the index has no manifest for ${PLATFORM.os}/${PLATFORM.architecture}`);
    }
    // The image store resolves one index level; deeper nesting stores the innermost index.
    return chosen.kind === 'manifest' ? { kind: 'index', manifestDigest: digest, mediaType, configDigest: chosen.configDigest } : chosen;
  }

  private async visitManifest(digest: string, desc: Descriptor, doc: ManifestDoc, where: string): Promise<Resolved> {
    const ctx = this.ctx;
    if (typeof doc.config !== 'object' || doc.config === null || !Array.isArray(doc.layers)) {
      throw ctx.error('IMAGE_LOAD_INVALID', where, `manifest ${digest} has no config or layers`);
    }
    const configDigest = await ctx.requireBlob(doc.config.digest, doc.config.size, `${where} config`);
    const layerDigests: string[] = [];
    for (const [i, l] of (doc.layers as unknown[]).entries()) {
      const d = (l ?? {}) as { digest?: unknown; size?: unknown };
      layerDigests.push(await ctx.requireBlob(d.digest, d.size, `${where} layer ${i + 1}`));
    }
    const config = await ctx.readJsonBlob<ImageConfig>(configDigest, `${where} config`);
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== layerDigests.length) {
      throw ctx.error('IMAGE_LOAD_INVALID', `${where} config`, `the config lists ${Array.isArray(diffIds) ? diffIds.length : 'no'} diff_ids for ${layerDigests.length} layers`);
    }
    const mediaType = desc.mediaType ?? (typeof doc.mediaType === 'string' ? doc.mediaType : MediaType.ociManifest);
    this.leaves.push({ digest, mediaType, configDigest, layerDigests, names: annotationNames(ctx, desc.annotations, where) });
    return { kind: 'manifest', manifestDigest: digest, mediaType, configDigest };
  }
}

function storeTarget(r: Resolved): Omit<PlannedImage, 'names'> {
  return { manifestDigest: r.manifestDigest, mediaType: r.mediaType, configDigest: r.configDigest };
}

/** Every image index.json lists (named or not), and every complete leaf manifest. */
export async function planOciLayout(ctx: LoadContext, indexJson: Buffer): Promise<OciPlan> {
  const index = ctx.parseJson<IndexDoc>(indexJson, 'index.json');
  const top = asDescriptors(ctx, index.manifests, 'index.json');
  const walker = new OciWalker(ctx);
  for (const [i, desc] of top.entries()) {
    const where = `index.json manifests[${i}]`;
    const names = annotationNames(ctx, desc.annotations, where);
    const r = await walker.visit(desc, where, 0);
    walker.images.push({ names, ...storeTarget(r) });
  }
  return { images: walker.images, leaves: walker.leaves };
}
