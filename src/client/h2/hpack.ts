/**
 * HPACK (RFC 7541), the header compression of HTTP/2, for the client's own HTTP/2 connection
 * (connection.ts). The decoder is complete, since the server chooses how to encode: the static
 * table, a dynamic table bounded by the size this side announced (SETTINGS_HEADER_TABLE_SIZE,
 * default 4,096 octets) with the size updates the server may signal, all five field
 * representations and Huffman-coded strings (hpack-huffman.ts). The encoder keeps no state: each
 * field is an entry of the static table when one matches exactly, else a literal without indexing
 * (with the static table's index for its name when there is one), strings as plain octets. So the
 * server's decoder table never holds anything of ours, and nothing here depends on its size.
 */
import { huffmanDecode, HuffmanError } from './hpack-huffman.js';

/** One header field: a lower-case name and its value. */
export type HeaderField = readonly [name: string, value: string];

/** Thrown for a header block that cannot be decoded: a COMPRESSION_ERROR of the connection. */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}

/** RFC 7541 Appendix A: index 1 is the first entry. */
const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** An entry's size in the dynamic table (§4.1): its octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** No integer in a header block needs more (a length or an index); larger is an attack or garbage. */
const MAX_INTEGER = 0x7fffffff;

export class HpackDecoder {
  /** Newest first: index 62 is entries[0]. */
  readonly #entries: HeaderField[] = [];
  #size = 0;
  /** The bound this side announced (the server may set any size up to it). */
  readonly #limit: number;
  #maxSize: number;
  #block: Buffer = Buffer.alloc(0);
  #at = 0;

  constructor(limit = 4096) {
    this.#limit = limit;
    this.#maxSize = limit;
  }

  /** The dynamic table's current size in octets (for tests). */
  get size(): number {
    return this.#size;
  }

  /** The fields of one complete header block, in order. */
  decode(block: Buffer): HeaderField[] {
    this.#block = block;
    this.#at = 0;
    const fields: HeaderField[] = [];
    while (this.#at < block.byteLength) {
      const b = block[this.#at] as number;
      if (b & 0x80) {
        fields.push(this.#field(this.#integer(7)));
      } else if (b & 0x40) {
        const field = this.#literal(6);
        this.#add(field);
        fields.push(field);
      } else if (b & 0x20) {
        // A size update belongs before the block's first field (§4.2).
        if (fields.length > 0) throw new HpackError('a dynamic table size update after a header field');
        const size = this.#integer(5);
        if (size > this.#limit) throw new HpackError(`dynamic table size update to ${size}, above the ${this.#limit} allowed`);
        this.#maxSize = size;
        this.#evict(0);
      } else {
        // Without indexing (0000) or never indexed (0001): the same for a decoder.
        fields.push(this.#literal(4));
      }
    }
    return fields;
  }

  #field(index: number): HeaderField {
    if (index === 0) throw new HpackError('header field index 0');
    const field = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.#entries[index - STATIC_TABLE.length - 1];
    if (!field) throw new HpackError(`header field index ${index} is beyond the tables`);
    return field;
  }

  #literal(prefixBits: number): HeaderField {
    const nameIndex = this.#integer(prefixBits);
    const name = nameIndex === 0 ? this.#string() : this.#field(nameIndex)[0];
    return [name, this.#string()];
  }

  #add(field: HeaderField): void {
    const size = field[0].length + field[1].length + ENTRY_OVERHEAD;
    this.#evict(size);
    // An entry larger than the whole table empties it and is not added (§4.4).
    if (size > this.#maxSize) return;
    this.#entries.unshift(field);
    this.#size += size;
  }

  /** Drops the oldest entries until `room` more octets fit. */
  #evict(room: number): void {
    while (this.#size + room > this.#maxSize && this.#entries.length > 0) {
      const old = this.#entries.pop() as HeaderField;
      this.#size -= old[0].length + old[1].length + ENTRY_OVERHEAD;
    }
  }

  /** An integer with an N-bit prefix (§5.1). */
  #integer(prefixBits: number): number {
    const block = this.#block;
    const mask = (1 << prefixBits) - 1;
    let value = (block[this.#at++] as number) & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.#at >= block.byteLength) throw new HpackError('a header block ends inside an integer');
      const b = block[this.#at++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('an integer in a header block is too large');
      if ((b & 0x80) === 0) return value;
    }
  }

  /** A string literal (§5.2), plain or Huffman-coded, as latin1 (header octets, as node:http2 gives them). */
  #string(): string {
    if (this.#at >= this.#block.byteLength) throw new HpackError('a header block ends before a string');
    const huffman = ((this.#block[this.#at] as number) & 0x80) !== 0;
    const length = this.#integer(7);
    if (this.#at + length > this.#block.byteLength) throw new HpackError('a header block ends inside a string');
    const raw = this.#block.subarray(this.#at, this.#at + length);
    this.#at += length;
    if (!huffman) return raw.toString('latin1');
    try {
      return huffmanDecode(raw).toString('latin1');
    } catch (e) {
      throw e instanceof HuffmanError ? new HpackError(e.message) : e;
    }
  }
}

/** Static table entries by `name\0value`, and the first index of each name. */
let staticIndex: { readonly exact: Map<string, number>; readonly names: Map<string, number> } | undefined;

function lookup(): NonNullable<typeof staticIndex> {
  if (staticIndex) return staticIndex;
  const exact = new Map<string, number>();
  const names = new Map<string, number>();
  STATIC_TABLE.forEach(([name, value], i) => {
    if (value !== '') exact.set(`${name}\0${value}`, i + 1);
    if (!names.has(name)) names.set(name, i + 1);
  });
  staticIndex = { exact, names };
  return staticIndex;
}

/** A header block for `fields` (names must be lower case, as HTTP/2 requires). */
export function encodeHeaders(fields: readonly HeaderField[]): Buffer {
  const { exact, names } = lookup();
  const parts: number[] = [];
  const out: Buffer[] = [];
  const flush = (): void => {
    if (parts.length > 0) out.push(Buffer.from(parts.splice(0)));
  };
  const str = (s: string): void => {
    const bytes = Buffer.from(s, 'latin1');
    encodeInteger(parts, bytes.byteLength, 7, 0x00);
    flush();
    out.push(bytes);
  };
  for (const [name, value] of fields) {
    const full = exact.get(`${name}\0${value}`);
    if (full !== undefined) {
      encodeInteger(parts, full, 7, 0x80);
      continue;
    }
    const nameIndex = names.get(name);
    encodeInteger(parts, nameIndex ?? 0, 4, 0x00);
    if (nameIndex === undefined) str(name);
    str(value);
  }
  flush();
  return Buffer.concat(out);
}

/** Appends an integer with an N-bit prefix (§5.1); `high` holds the representation's pattern bits. */
export function encodeInteger(out: number[], value: number, prefixBits: number, high: number): void {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out.push(high | value);
    return;
  }
  out.push(high | mask);
  let rest = value - mask;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}
