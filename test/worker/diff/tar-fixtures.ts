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

/** Fields of one raw ustar header block (for entry types and orders tar-stream will not write). */
export interface RawHeaderSpec {
  readonly name: string;
  /** '0' file, '1' hardlink, '2' symlink, '5' dir, 'x' PAX, 'g' PAX global, 'L'/'K' GNU long name/link. */
  readonly typeflag: string;
  readonly size?: number;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly linkname?: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One 512-byte ustar header block with a correct checksum. */
export function rawHeader(h: RawHeaderSpec): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name.slice(0, 100), 0, 'latin1');
  b.write(octal(h.mode ?? 0o644, 8), 100, 'latin1');
  b.write(octal(h.uid ?? 0, 8), 108, 'latin1');
  b.write(octal(h.gid ?? 0, 8), 116, 'latin1');
  b.write(octal(h.size ?? 0, 12), 124, 'latin1');
  b.write(octal(h.mtime ?? 1_000_000_000, 12), 136, 'latin1');
  b.fill(0x20, 148, 156);
  b.write(h.typeflag, 156, 'latin1');
  b.write((h.linkname ?? '').slice(0, 100), 157, 'latin1');
  b.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

/** `data` padded to whole 512-byte blocks. */
export function padBlock(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A header plus its padded body (the header's size is set from the body). */
export function rawEntry(h: RawHeaderSpec, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  return Buffer.concat([rawHeader({ ...h, size: data.length }), padBlock(data)]);
}

/** PAX records, each `<len> key=value\n`, as one extended header body. */
export function paxBody(records: Readonly<Record<string, string | Buffer>>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const value = Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
    const rest = Buffer.concat([Buffer.from(` ${k}=`, 'utf8'), value, Buffer.from('\n')]);
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len++;
    parts.push(Buffer.from(String(len)), rest);
  }
  return Buffer.concat(parts);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);
