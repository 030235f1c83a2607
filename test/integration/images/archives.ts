/**
 * Hand-made image archives for `image load` tests: Docker 20.10's legacy `docker save` layout and
 * OCI layouts with nested indexes, built from real layer tars, plus ways to break them.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import tarStream from 'tar-stream';

export interface ArchiveEntry {
  readonly name: string;
  readonly data?: Buffer;
  /** Symlink target (then data is ignored). */
  readonly symlink?: string;
  /** Hardlink target, relative to the archive root (then data is ignored). */
  readonly hardlink?: string;
  /** A directory entry. */
  readonly dir?: boolean;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function hex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

/** A tar of the entries, in order. */
export async function tarOf(entries: readonly ArchiveEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      if (e.dir) {
        pack.entry({ name: e.name, type: 'directory', mode: 0o755, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      } else if (e.hardlink !== undefined) {
        pack.entry({ name: e.name, type: 'link', linkname: e.hardlink, mode: 0o644, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      } else if (e.symlink !== undefined) {
        pack.entry({ name: e.name, type: 'symlink', linkname: e.symlink, mode: 0o777, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
      } else {
        pack.entry({ name: e.name, mode: 0o644, mtime: new Date(0) }, e.data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      }
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A one-file layer tar (what a `RUN echo … > /path` layer holds). */
export function fileLayer(path: string, content: string): Promise<Buffer> {
  return tarOf([{ name: path.replace(/^\//, ''), data: Buffer.from(content) }]);
}

export interface LegacyOptions {
  readonly layers: readonly Buffer[];
  readonly repoTags: readonly string[] | null;
  /** Config diff_ids (default: the layers' digests). */
  readonly diffIds?: readonly string[];
  readonly cmd?: readonly string[];
  /** Store the second and later copies of an identical layer as symlinks, as docker save does. */
  readonly linkDuplicates?: boolean;
  /** Leave these layer indexes out of the archive (manifest.json still lists them). */
  readonly omitLayers?: readonly number[];
}

/** Docker 20.10's `docker save` layout: `<hex>.json`, `<id>/layer.tar`, `manifest.json`, `repositories`. */
export async function legacyArchive(o: LegacyOptions): Promise<{ tar: Buffer; configDigest: string }> {
  const diffIds = o.diffIds ?? o.layers.map((l) => sha256(l));
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...(o.cmd ? { Cmd: o.cmd } : {}) },
    created: '2024-01-02T03:04:05Z',
    history: o.layers.map((_, i) => ({ created: '2024-01-02T03:04:05Z', created_by: `/bin/sh -c #(nop) layer ${i}` })),
    rootfs: { type: 'layers', diff_ids: diffIds },
  }));
  const configDigest = sha256(config);
  const entries: ArchiveEntry[] = [];
  const layerPaths: string[] = [];
  const firstPath = new Map<string, string>();
  for (const [i, layer] of o.layers.entries()) {
    // v1 layer ids are chain-like random hex in docker; any 64 hex will do.
    const id = hex(sha256(`layer-${i}-${sha256(layer)}`));
    const path = `${id}/layer.tar`;
    layerPaths.push(path);
    entries.push({ name: `${id}/`, dir: true }, { name: `${id}/VERSION`, data: Buffer.from('1.0') }, { name: `${id}/json`, data: Buffer.from(JSON.stringify({ id })) });
    if (o.omitLayers?.includes(i)) continue;
    const d = sha256(layer);
    const first = firstPath.get(d);
    if (o.linkDuplicates && first) entries.push({ name: path, symlink: `../${first}` });
    else {
      entries.push({ name: path, data: layer });
      firstPath.set(d, path);
    }
  }
  const files = entries;
  files.push({ name: `${hex(configDigest)}.json`, data: config });
  files.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify([{ Config: `${hex(configDigest)}.json`, RepoTags: o.repoTags, Layers: layerPaths }])) });
  if (o.repoTags && o.repoTags.length > 0) {
    const [repo, tag] = (o.repoTags[0] as string).split(':') as [string, string];
    files.push({ name: 'repositories', data: Buffer.from(JSON.stringify({ [repo]: { [tag]: hex(sha256(layerPaths.at(-1) ?? '')) } })) });
  }
  return { tar: await tarOf(files), configDigest };
}

export interface OciImageParts {
  readonly blobs: Map<string, Buffer>;
  readonly manifestDigest: string;
  readonly manifestSize: number;
  readonly configDigest: string;
}

/** Config + manifest (OCI media types, gzip or plain layers as given) for the layers. */
export function ociImage(layers: readonly { readonly blob: Buffer; readonly diffId: string; readonly gzip: boolean }[], label: string): OciImageParts {
  const blobs = new Map<string, Buffer>();
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-02-03T04:05:06Z',
    config: { Labels: { label } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: `layer of ${label}` })),
  }));
  blobs.set(sha256(config), config);
  for (const l of layers) blobs.set(sha256(l.blob), l.blob);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${l.gzip ? '+gzip' : ''}`, digest: sha256(l.blob), size: l.blob.length })),
  }));
  blobs.set(sha256(manifest), manifest);
  return { blobs, manifestDigest: sha256(manifest), manifestSize: manifest.length, configDigest: sha256(config) };
}

/** An OCI layout tar: `oci-layout`, `index.json` and the given blobs under `blobs/sha256/`. */
export function ociLayout(index: unknown, blobs: ReadonlyMap<string, Buffer>): Promise<Buffer> {
  return tarOf([
    { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    ...[...blobs].map(([d, data]) => ({ name: `blobs/sha256/${hex(d)}`, data })),
    { name: 'index.json', data: Buffer.from(JSON.stringify(index)) },
  ]);
}

export async function writeArchive(path: string, data: Buffer): Promise<string> {
  await writeFile(path, data);
  return path;
}

/** The entries of a tar file by name (small archives only). */
export async function readTarEntries(path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const extract = tarStream.extract();
  const data = await readFile(path);
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      out.set(entry.header.name, Buffer.concat(parts));
    }
  })();
  extract.end(data);
  await done;
  return out;
}
