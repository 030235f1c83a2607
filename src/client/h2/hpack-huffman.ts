/**
 * HPACK's Huffman code (RFC 7541 §5.2, Appendix B) for decoding the string literals a server
 * sends (nghttp2 Huffman-codes a header string whenever that is shorter). The code is canonical:
 * codes are handed out in order of length, and within one length in order of the symbol, so the
 * table is fully given by each symbol's code length, written out below from Appendix B (symbols
 * 0–255, then EOS, 256). Decoding walks the bits with per-length first codes (the canonical
 * decoder): a header string is short, and this needs no 2^30-entry table nor a tree. This client
 * never Huffman-codes what it sends (its header values are short and mostly already Huffman-poor).
 */

/** Code length in bits of each symbol (Appendix B), 16 symbols a row; the last entry is EOS. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0–15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16–31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //          ' ' – '/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //               '0' – '?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                 '@' – 'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //              'P' – '_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                 '`' – 'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //             'p' – 127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128–143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144–159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160–175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176–191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192–207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208–223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224–239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240–255
  30, //                                                              EOS
];

const EOS = 256;
const MAX_BITS = 30;

/** The canonical decoder's tables: per length, the first code, its index in SYMBOLS, the count. */
interface Canonical {
  readonly firstCode: Int32Array;
  readonly firstIndex: Int32Array;
  readonly count: Int32Array;
  /** Symbols ordered by (length, symbol). */
  readonly symbols: Uint16Array;
}

let canonical: Canonical | undefined;

function tables(): Canonical {
  if (canonical) return canonical;
  const count = new Int32Array(MAX_BITS + 1);
  for (const len of CODE_LENGTHS) count[len] = (count[len] ?? 0) + 1;
  const firstCode = new Int32Array(MAX_BITS + 1);
  const firstIndex = new Int32Array(MAX_BITS + 1);
  let code = 0;
  let index = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    firstCode[len] = code;
    firstIndex[len] = index;
    code = (code + (count[len] ?? 0)) << 1;
    index += count[len] ?? 0;
  }
  const symbols = new Uint16Array(CODE_LENGTHS.length);
  const next = Int32Array.from(firstIndex);
  CODE_LENGTHS.forEach((len, sym) => {
    symbols[next[len] ?? 0] = sym;
    next[len] = (next[len] ?? 0) + 1;
  });
  canonical = { firstCode, firstIndex, count, symbols };
  return canonical;
}

/** The code of `symbol` (as RFC 7541 Appendix B prints it, right-aligned) and its length. */
export function huffmanCode(symbol: number): { readonly code: number; readonly bits: number } {
  const t = tables();
  const bits = CODE_LENGTHS[symbol];
  if (bits === undefined) throw new RangeError(`no Huffman symbol ${symbol}`);
  const rank = t.symbols.subarray(t.firstIndex[bits], (t.firstIndex[bits] ?? 0) + (t.count[bits] ?? 0)).indexOf(symbol);
  return { code: (t.firstCode[bits] ?? 0) + rank, bits };
}

/** Thrown for a malformed Huffman string (a COMPRESSION_ERROR of the connection). */
export class HuffmanError extends Error {
  override readonly name = 'HuffmanError';
}

/**
 * Decodes a Huffman-coded string literal. The padding after the last symbol must be the most
 * significant bits of EOS (all ones) and shorter than 8 bits; EOS itself may not appear (§5.2).
 */
export function huffmanDecode(input: Uint8Array): Buffer {
  const { firstCode, firstIndex, count, symbols } = tables();
  const out = Buffer.allocUnsafe(Math.ceil((input.byteLength * 8) / 5));
  let n = 0;
  let code = 0;
  let len = 0;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const offset = code - (firstCode[len] ?? 0);
      if (offset >= 0 && offset < (count[len] ?? 0)) {
        const sym = symbols[(firstIndex[len] ?? 0) + offset] ?? EOS;
        if (sym === EOS) throw new HuffmanError('EOS inside a Huffman-coded string');
        out[n++] = sym;
        code = 0;
        len = 0;
      } else if (len >= MAX_BITS) throw new HuffmanError('invalid Huffman code');
    }
  }
  if (len > 7) throw new HuffmanError('Huffman padding longer than 7 bits');
  if (code !== (1 << len) - 1) throw new HuffmanError('Huffman padding is not a prefix of EOS');
  return out.subarray(0, n);
}
