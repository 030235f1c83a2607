/**
 * `tsbuild history` and `tsbuild inspect`: what an image in the local store is made of, shaped
 * like docker's answers. Sizes are uncompressed file-content bytes per layer (what Docker reports
 * for overlay2 layers), learned once per blob (layer-sizes.ts).
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { ContainerConfig, HistoryEntry, InspectConfig } from '../../oci/types.js';
import type { LocalImage } from '../../worker/ops/local-image.js';
import type { HistoryRow, ImageInspect } from '../types.js';
import { requireImage } from './lookup.js';
import { indexPlatforms } from './platforms.js';
import { familiarName, familiarRepoDigest } from './names.js';
import { ensureTopSnapshot, type TopSnapshotServices } from './top-snapshot.js';
import { LayerSizes } from '../layer-sizes.js';
import type { LayerLimits } from '../../worker/diff/layer-limits.js';

export { requireImage };

/** Content bytes of each layer of the image, bottom first. */
export async function layerContentSizes(storage: CacheStorage, img: LocalImage, signal: AbortSignal, limits?: LayerLimits): Promise<number[]> {
  const sizes = new LayerSizes({ storage, limits });
  const out: number[] = [];
  for (const l of img.layers) out.push((await sizes.of(l.digest, { signal })).contentSize);
  return out;
}

/** The history entries, or one synthetic entry per layer for images that carry none. */
function historyOf(img: LocalImage): HistoryEntry[] {
  const h = img.config.history ?? [];
  if (h.length > 0) return h;
  return img.layers.map(() => ({ ...(img.config.created !== undefined ? { created: img.config.created } : {}), created_by: '' }));
}

export async function imageHistory(storage: CacheStorage, ref: string, signal: AbortSignal, limits?: LayerLimits): Promise<HistoryRow[]> {
  const { image: img } = await requireImage(storage, ref, signal);
  const sizes = await layerContentSizes(storage, img, signal, limits);
  const diffIds = img.config.rootfs.diff_ids;
  const rows: HistoryRow[] = [];
  let li = 0;
  for (const h of historyOf(img)) {
    // More non-empty entries than layers can only come from a broken config: show them as empty.
    const empty = h.empty_layer === true || li >= img.layers.length;
    const idx = empty ? -1 : li++;
    const layer = empty ? undefined : diffIds[idx];
    rows.push({
      id: '<missing>',
      ...(h.created !== undefined ? { created: h.created } : {}),
      createdBy: h.created_by ?? '',
      size: empty ? 0 : (sizes[idx] ?? 0),
      comment: h.comment ?? '',
      emptyLayer: empty,
      ...(layer !== undefined ? { layer } : {}),
    });
  }
  rows.reverse();
  const top = rows[0];
  if (top) rows[0] = { ...top, id: img.configDigest };
  return rows;
}

/** Docker's RepoDigests: `repository@digest` for each repository the image was pushed to or pulled from. */
function repoDigests(storage: CacheStorage, imageId: string): string[] {
  return storage.images.repoDigests(imageId).map((d) => familiarRepoDigest(d.repository, d.digest));
}

/** The image's container config the way `docker inspect` prints it (Docker 20.10's struct). */
export function inspectConfig(c: ContainerConfig): InspectConfig {
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts !== undefined ? { ExposedPorts: c.ExposedPorts } : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    ...(c.Healthcheck !== undefined ? { Healthcheck: c.Healthcheck } : {}),
    ...(c.ArgsEscaped ? { ArgsEscaped: true } : {}),
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal !== undefined ? { StopSignal: c.StopSignal } : {}),
    ...(c.Shell !== undefined ? { Shell: c.Shell } : {}),
  };
}

export async function inspectImage(services: TopSnapshotServices, ref: string, signal: AbortSignal, limits?: LayerLimits): Promise<ImageInspect> {
  const { storage, snapshotter } = services;
  const { found, image: img } = await requireImage(storage, ref, signal);
  const sizes = await layerContentSizes(storage, img, signal, limits);
  const size = sizes.reduce((a, b) => a + b, 0);
  // Like docker, always show where the image's files are: unpack the layers if no build has yet.
  const top = await ensureTopSnapshot(services, img, { signal });
  const c = img.config;
  const lastComment = [...(c.history ?? [])].reverse().find((h) => h.comment)?.comment;
  const topLevelComment = (c as { comment?: unknown }).comment;
  const platforms = await indexPlatforms(storage, found.entry.manifestDigest, signal);
  const tagged = found.names.map(familiarName).filter((n): n is string => n !== undefined && !n.includes('@'));
  return {
    Id: img.configDigest,
    RepoTags: tagged,
    RepoDigests: repoDigests(storage, img.configDigest),
    Parent: '',
    Comment: typeof topLevelComment === 'string' ? topLevelComment : (lastComment ?? ''),
    ...(c.created !== undefined ? { Created: c.created } : {}),
    DockerVersion: '',
    Author: c.author ?? '',
    Config: inspectConfig(c.config),
    Architecture: c.architecture,
    ...(c.variant !== undefined ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: size,
    VirtualSize: size,
    GraphDriver: { Name: 'overlay2', Data: top === undefined ? null : await snapshotter.graphDriverData(top) },
    RootFS: { Type: 'layers', Layers: [...c.rootfs.diff_ids] },
    Metadata: { LastTagTime: new Date(found.entry.updatedAt).toISOString() },
    ...(platforms ? { Platforms: platforms } : {}),
  };
}
