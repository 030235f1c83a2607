/**
 * Image archives: an OCI image layout as a tar (`type=oci`), and the `docker save` format
 * (`type=docker`: the OCI layout plus `manifest.json`/`repositories`, which `docker load` and
 * `podman load` read). Blobs are streamed from the store, never buffered whole.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import tarStream from 'tar-stream';
import type { Descriptor, ImageIndex } from '../oci/types.js';
import { MediaType } from '../oci/types.js';

/** Reads a stored blob by digest. */
export type BlobOpener = (digest: string) => Promise<Readable>;

export interface ArchiveImage {
  /** Full reference, e.g. `docker.io/library/layer:latest`; undefined for an untagged image. */
  readonly name: string | undefined;
  readonly manifestDescriptor: Descriptor;
  readonly manifestBytes: Buffer;
  /** Absent when the root is an image index (a multi-platform image: its manifests are in `blobs`). */
  readonly configDescriptor?: Descriptor;
  readonly configBytes?: Buffer;
  /** Every layer, of every platform for an index. */
  readonly layers: readonly Descriptor[];
  /** Further small blobs written before the root: an index's manifests and configs. */
  readonly blobs?: ReadonlyArray<readonly [Descriptor, Buffer]>;
  /** Annotations of the root's descriptor in index.json (`annotation-*-descriptor.KEY`), beside the name ones. */
  readonly descriptorAnnotations?: Readonly<Record<string, string>> | undefined;
}

export interface ArchiveOptions {
  readonly format: 'oci' | 'docker';
  /** Entry mtime in seconds (SOURCE_DATE_EPOCH for reproducible archives); default 0. */
  readonly mtime?: number;
  readonly signal?: AbortSignal;
}

function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  return `blobs/${alg}/${hex}`;
}

/** `docker.io/library/alpine:3.4` → `alpine:3.4`, as `docker images` shows it. */
export function familiarName(ref: string): string {
  let s = ref;
  if (s.startsWith('docker.io/')) s = s.slice('docker.io/'.length);
  if (s.startsWith('library/') && s.indexOf('/', 'library/'.length) < 0) s = s.slice('library/'.length);
  return s;
}

function splitTag(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const colon = base.lastIndexOf(':');
  if (colon > base.lastIndexOf('/')) return { repo: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repo: base, tag: 'latest' };
}

export async function writeImageArchive(out: Writable, images: readonly ArchiveImage[], openBlob: BlobOpener, opts: ArchiveOptions): Promise<void> {
  const pack = tarStream.pack();
  const mtime = new Date((opts.mtime ?? 0) * 1000);
  const done = pipeline(pack, out, opts.signal ? { signal: opts.signal } : {});
  // A write error (a full disk) rejects `done` while entries are still being added: observe it now,
  // and report it rather than the "stream destroyed" that the next entry then meets.
  const writeError = done.then(() => undefined, (e: unknown) => e);

  const addBuffer = (name: string, data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry({ name, size: data.length, mode: 0o644, mtime, uid: 0, gid: 0 }, data, (err) => (err ? reject(err) : resolve()));
    });
  const addDir = (name: string): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry({ name, type: 'directory', mode: 0o755, mtime, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
    });
  const addBlob = async (d: Descriptor): Promise<void> => {
    const src = await openBlob(d.digest);
    // An abort (a closed output pipe) can fail the blob stream before pipeline() listens to it, or
    // make pack.entry() throw: that error is reported through the pipeline or the throw, not as an
    // unhandled 'error' event.
    src.on('error', () => undefined);
    try {
      const entry = pack.entry({ name: blobPath(d.digest), size: d.size, mode: 0o644, mtime, uid: 0, gid: 0 });
      await pipeline(src, entry);
    } finally {
      src.destroy();
    }
  };

  try {
    await addDir('blobs/');
    await addDir('blobs/sha256/');
    const written = new Set<string>();
    for (const img of images) {
      for (const layer of img.layers) {
        if (written.has(layer.digest)) continue;
        written.add(layer.digest);
        await addBlob(layer);
      }
      const own: Array<readonly [Descriptor, Buffer]> = img.configDescriptor && img.configBytes ? [[img.configDescriptor, img.configBytes]] : [];
      for (const [d, bytes] of [...(img.blobs ?? []), ...own, [img.manifestDescriptor, img.manifestBytes] as const]) {
        if (written.has(d.digest)) continue;
        written.add(d.digest);
        await addBuffer(blobPath(d.digest), bytes);
      }
    }
    await addBuffer('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: images.map((img) => ({
        mediaType: img.manifestDescriptor.mediaType,
        digest: img.manifestDescriptor.digest,
        size: img.manifestDescriptor.size,
        ...(img.name || img.descriptorAnnotations
          ? {
            annotations: {
              ...img.descriptorAnnotations,
              ...(img.name ? { 'io.containerd.image.name': img.name, 'org.opencontainers.image.ref.name': splitTag(img.name).tag } : {}),
            },
          }
          : {}),
      })),
    };
    await addBuffer('index.json', Buffer.from(JSON.stringify(index)));
    if (opts.format === 'docker') {
      const manifest = images.map((img) => ({
        Config: img.configDescriptor ? blobPath(img.configDescriptor.digest) : '',
        RepoTags: img.name ? [familiarName(img.name)] : [],
        Layers: img.layers.map((l) => blobPath(l.digest)),
      }));
      await addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest)));
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    throw (await writeError) ?? e;
  }
  await done;
}
