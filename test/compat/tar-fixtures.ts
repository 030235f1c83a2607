/** Hand-made layer tars and image archives (tar-stream) for the flattener's and comparer's unit tests. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface TarItem {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device';
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly content?: string;
  readonly linkname?: string;
  readonly mtime?: number;
  readonly pax?: Readonly<Record<string, string>>;
}

/** A tar with the items in the given order (defaults: regular file, 0644, root, mtime 1000). */
export async function makeTar(items: readonly TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const it of items) {
    const type = it.type ?? 'file';
    const header = {
      name: it.name,
      type,
      mode: it.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: it.uid ?? 0,
      gid: it.gid ?? 0,
      mtime: new Date((it.mtime ?? 1000) * 1000),
      ...(it.linkname !== undefined ? { linkname: it.linkname } : {}),
      ...(it.pax ? { pax: it.pax } : {}),
    } as const;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, Buffer.from(it.content ?? ''), cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const sha256hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A minimal image config for the given (uncompressed) layers. */
export function configFor(layers: readonly Buffer[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha256hex(l)}`) },
    history: layers.map(() => ({ created_by: 'test' })),
    ...extra,
  }));
}

/** A tar of plain files (name → bytes) and symlinks (name → { symlink: target }), in the given order. */
async function packFiles(files: readonly (readonly [string, Buffer | { readonly symlink: string }])[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const [name, data] of files) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (Buffer.isBuffer(data)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, data, cb);
      else pack.entry({ name, type: 'symlink', linkname: data.symlink, mode: 0o777, mtime: new Date(0) }, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Writes a `docker save`-style archive holding one image. Like docker save, a layer that occurs
 * twice is stored once and the second occurrence is a symlink to the first.
 */
export async function writeDockerSave(file: string, layers: readonly Buffer[], config: Buffer = configFor(layers)): Promise<void> {
  const cfgName = `${sha256hex(config)}.json`;
  const names = layers.map((l, i) => `${i}${sha256hex(l).slice(0, 12)}/layer.tar`);
  const firstOf = new Map<string, string>();
  const entries = layers.map((l, i) => {
    const name = names[i] as string;
    const first = firstOf.get(sha256hex(l));
    if (first === undefined) firstOf.set(sha256hex(l), name);
    return [name, first === undefined ? l : { symlink: `../${first}` }] as const;
  });
  const manifest = Buffer.from(JSON.stringify([{ Config: cfgName, RepoTags: ['x:latest'], Layers: names }]));
  await writeFile(file, await packFiles([[cfgName, config], ...entries, ['manifest.json', manifest]]));
}

export interface OciLayoutOptions {
  /** Wrap the manifest in an image index (as exporters with attestations do). */
  readonly nested?: boolean;
  /** Replace one blob's bytes after digesting (to test verification). */
  readonly corrupt?: 'config' | 'layer';
}

/** Writes an OCI image layout archive with gzip layers. */
export async function writeOciLayout(file: string, layers: readonly Buffer[], opts: OciLayoutOptions = {}): Promise<void> {
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer): string => {
    const d = sha256hex(b);
    blobs.set(d, b);
    return `sha256:${d}`;
  };
  const gz = layers.map((l) => gzipSync(l));
  const config = configFor(layers);
  const configDigest = put(config);
  const layerDescs = gz.map((g) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(g), size: g.length }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: layerDescs,
  }));
  let top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length };
  if (opts.nested) {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [top] }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: put(index), size: index.length };
  }
  if (opts.corrupt) {
    const victim = opts.corrupt === 'config' ? configDigest : (layerDescs[0]?.digest ?? '');
    blobs.set(victim.slice('sha256:'.length), gzipSync(Buffer.from('corrupted')));
  }
  await writeFile(file, await packFiles([
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [top] }))],
    ...[...blobs].map(([d, b]) => [`blobs/sha256/${d}`, b] as const),
  ]));
}
