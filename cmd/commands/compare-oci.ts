/**
 * Reads what `tsbuild compare` needs from an OCI archive a build wrote (`-o type=oci,dest=…`): the
 * image's config and layer blobs with their digests and compressed sizes (what a push sends, since
 * exports and pushes share the remembered compressed blobs) and the config's history (what made
 * each layer). Only the small JSON entries are kept in memory; layer blobs are skipped.
 */
import { createReadStream } from 'node:fs';
import tarStream from 'tar-stream';
import { TsbuildError } from '../../src/util/errors.js';
import type { ImageBlobs } from '../../src/report/compare-report.js';

/** Entries bigger than this are layers, never index, manifest or config. */
const JSON_MAX = 4 * 1024 * 1024;

interface Descriptor {
  readonly digest: string;
  readonly size: number;
}

export async function readOciImage(file: string, signal: AbortSignal): Promise<ImageBlobs> {
  const small = new Map<string, Buffer>();
  const extract = tarStream.extract();
  const src = createReadStream(file, { signal });
  src.pipe(extract);
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^\.\//, '');
    if (entry.header.type === 'file' && (entry.header.size ?? 0) <= JSON_MAX) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      small.set(name, Buffer.concat(chunks));
    } else {
      entry.resume();
    }
  }
  const json = <T>(name: string): T => {
    const b = small.get(name);
    if (!b) throw new TsbuildError('COMPARE_BAD_ARCHIVE', `${file}: ${name} missing from the OCI archive`);
    return JSON.parse(b.toString('utf8')) as T;
  };
  const blob = (d: Descriptor): string => `blobs/${d.digest.replace(':', '/')}`;
  const index = json<{ manifests?: Descriptor[] }>('index.json');
  const top = index.manifests?.[0];
  if (!top) throw new TsbuildError('COMPARE_BAD_ARCHIVE', `${file}: the OCI index lists no manifest`);
  const manifest = json<{ config: Descriptor; layers?: Descriptor[] }>(blob(top));
  const config = json<{ history?: { created_by?: string; empty_layer?: boolean; comment?: string }[] }>(blob(manifest.config));
  return {
    config: { digest: manifest.config.digest, size: manifest.config.size },
    layers: (manifest.layers ?? []).map((l) => ({ digest: l.digest, size: l.size })),
    history: (config.history ?? []).map((h) => ({ createdBy: h.created_by ?? '', emptyLayer: h.empty_layer === true, comment: h.comment ?? '' })),
  };
}
