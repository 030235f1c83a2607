/** Building tarballs in tests (with tar-stream, an independent implementation) and reading ours. */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';

export type EntrySpec = Partial<Omit<Header, 'pax'>> & {
  readonly name: string;
  readonly pax?: Record<string, string>;
  readonly body?: string | Buffer;
};

/** A tar built by tar-stream from `entries`, in order. */
export async function buildTar(entries: readonly EntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const b of pack) out.push(b as Buffer);
  })();
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mtime: new Date(1_000_000_000_000), ...header }, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

export async function collect(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of stream) parts.push(Buffer.from(b as Uint8Array));
  return Buffer.concat(parts);
}

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export interface ListedEntry {
  readonly name: string;
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly linkname: string | null;
  readonly pax: Record<string, string> | null;
  readonly body: Buffer;
}

/** Every entry of a tar, parsed by tar-stream (not by our reader). */
export async function listTar(data: Buffer): Promise<ListedEntry[]> {
  const extract = tar.extract();
  const entries: ListedEntry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const b of entry) parts.push(b as Buffer);
      const h = entry.header;
      entries.push({
        name: h.name, type: h.type ?? 'file', mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000), linkname: h.linkname ?? null,
        pax: (h.pax as Record<string, string> | null | undefined) ?? null, body: Buffer.concat(parts),
      });
    }
  })();
  extract.end(data);
  await done;
  return entries;
}
