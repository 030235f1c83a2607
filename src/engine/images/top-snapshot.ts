/**
 * The committed snapshot that holds an image's top layer, with the image's layers below it — what
 * `docker inspect` shows as GraphDriver. Found, cheapest first: through the chain records FROM
 * (and earlier inspects) leave; through the layer-blob cache of the build that produced the image
 * (checking that the whole snapshot chain carries the image's diff_ids); else the layers are
 * unpacked now, as FROM would.
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import { EMPTY_TAR_DIFF_ID } from '../../exporter/image-assemble.js';
import type { LayerApplier, Snapshotter } from '../../worker/types.js';
import { chainRecordKey, unpackImage } from '../../worker/ops/image-unpack.js';
import { chainIds } from '../../oci/chain-id.js';
import type { LocalImage } from '../../worker/ops/local-image.js';

export interface TopSnapshotServices {
  readonly storage: CacheStorage;
  readonly snapshotter: Snapshotter;
  readonly applier: LayerApplier;
}

async function isCommitted(snapshotter: Snapshotter, id: string): Promise<boolean> {
  return snapshotter.stat(id).then((s) => s.kind === 'committed', () => false);
}

/**
 * True when the snapshot's chain carries exactly these diff_ids: every layer, or (an image stored
 * before empty layers were kept) every layer that changed something.
 */
async function chainMatches(s: TopSnapshotServices, id: string, diffIds: readonly string[]): Promise<boolean> {
  let chain: readonly string[];
  try {
    chain = [...(await s.snapshotter.chain(id))].reverse();
  } catch {
    return false;
  }
  const ids: string[] = [];
  for (const snap of chain) {
    const entry = s.storage.layerBlobs.forSnapshot(snap)[0];
    if (!entry) return false;
    ids.push(entry.diffId);
  }
  const same = (xs: readonly string[]): boolean => xs.length === diffIds.length && xs.every((d, i) => d === diffIds[i]);
  return same(ids) || same(ids.filter((d) => d !== EMPTY_TAR_DIFF_ID));
}

/** Without unpacking: the image's top snapshot if it exists on this data root. */
export async function findTopSnapshot(s: TopSnapshotServices, img: LocalImage): Promise<string | undefined> {
  const diffIds = img.config.rootfs.diff_ids;
  const top = chainIds(diffIds).at(-1);
  if (top === undefined) return undefined;
  const rec = s.storage.records.get(chainRecordKey(top), 0);
  if (rec && (await isCommitted(s.snapshotter, rec.resultId))) return rec.resultId;
  const last = img.layers.at(-1);
  if (!last) return undefined;
  for (const e of s.storage.layerBlobs.list()) {
    if (e.blobDigest !== last.digest) continue;
    if ((await isCommitted(s.snapshotter, e.snapshotId)) && (await chainMatches(s, e.snapshotId, diffIds))) return e.snapshotId;
  }
  return undefined;
}

/** The image's top snapshot, unpacking the layers first when needed; undefined for an image without layers. */
export async function ensureTopSnapshot(s: TopSnapshotServices, img: LocalImage, opts: { readonly signal: AbortSignal }): Promise<string | undefined> {
  if (img.layers.length === 0) return undefined;
  return (await findTopSnapshot(s, img)) ?? unpackImage(s, img, { signal: opts.signal });
}
