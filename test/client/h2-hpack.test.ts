/**
 * HPACK (src/client/h2/hpack.ts, hpack-huffman.ts) against the examples of RFC 7541 Appendix C:
 * integers (C.1), each field representation (C.2), three requests sharing one dynamic table
 * without and with Huffman coding (C.3, C.4), and three responses whose table (256 octets) evicts
 * entries, without and with Huffman coding (C.5, C.6). Decoding each block must give the listed
 * headers and the listed table size. Also: Huffman codes as Appendix B lists them, malformed
 * input refused, and the encoder's blocks decoding back to what was encoded.
 */
import { describe, expect, test } from '@jest/globals';
import { encodeHeaders, encodeInteger, HpackDecoder, HpackError, type HeaderField } from '../../src/client/h2/hpack.js';
import { huffmanCode, huffmanDecode, HuffmanError } from '../../src/client/h2/hpack-huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Decodes the blocks in order with one decoder; each gives its headers and the table size after it. */
function decodeAll(limit: number, blocks: readonly string[]): Array<{ fields: HeaderField[]; size: number }> {
  const d = new HpackDecoder(limit);
  return blocks.map((b) => ({ fields: d.decode(hex(b)), size: d.size }));
}

const REQUESTS: HeaderField[][] = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];
const REQUEST_TABLE_SIZES = [57, 110, 164];

const RESPONSES: HeaderField[][] = [
  [[':status', '302'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']],
  [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']],
  [
    [':status', '200'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'], ['location', 'https://www.example.com'],
    ['content-encoding', 'gzip'], ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ],
];
const RESPONSE_TABLE_SIZES = [222, 222, 215];

describe('RFC 7541 Appendix C', () => {
  test('C.1: integers with 5-bit prefixes and at an octet boundary', () => {
    const enc = (value: number, prefix: number): string => {
      const out: number[] = [];
      encodeInteger(out, value, prefix, 0);
      return Buffer.from(out).toString('hex');
    };
    expect([enc(10, 5), enc(1337, 5), enc(42, 8)]).toEqual(['0a', '1f9a0a', '2a']);
  });

  test('C.2: literal with indexing, without indexing, never indexed, indexed', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'))).toEqual([['custom-key', 'custom-header']]);
    expect(d.size).toBe(55);
    expect(d.decode(hex('040c 2f73 616d 706c 652f 7061 7468'))).toEqual([[':path', '/sample/path']]);
    expect(d.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).toEqual([['password', 'secret']]);
    expect(d.decode(hex('82'))).toEqual([[':method', 'GET']]);
    expect(d.size).toBe(55);
  });

  test('C.3: requests without Huffman coding, sharing the dynamic table', () => {
    const got = decodeAll(4096, [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ]);
    expect(got).toEqual(REQUESTS.map((fields, i) => ({ fields, size: REQUEST_TABLE_SIZES[i] })));
  });

  test('C.4: requests with Huffman coding', () => {
    const got = decodeAll(4096, [
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ]);
    expect(got).toEqual(REQUESTS.map((fields, i) => ({ fields, size: REQUEST_TABLE_SIZES[i] })));
  });

  test('C.5: responses without Huffman coding, evicting from a 256-octet table', () => {
    const got = decodeAll(256, [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768
       7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      '4803 3330 37c1 c0bf',
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153
       444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
       3d31`,
    ]);
    expect(got).toEqual(RESPONSES.map((fields, i) => ({ fields, size: RESPONSE_TABLE_SIZES[i] })));
  });

  test('C.6: responses with Huffman coding, evicting from a 256-octet table', () => {
    const got = decodeAll(256, [
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8
       e9ae 82ae 43d3`,
      '4883 640e ffc1 c0bf',
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b
       3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ]);
    expect(got).toEqual(RESPONSES.map((fields, i) => ({ fields, size: RESPONSE_TABLE_SIZES[i] })));
  });
});

describe('Huffman code (Appendix B)', () => {
  test('codes and lengths as the RFC lists them, across the lengths', () => {
    const listed: Array<[number, number, number]> = [
      [0, 0x1ff8, 13], [10, 0x3ffffffc, 30], [32, 0x14, 6], [48, 0x0, 5], [58, 0x5c, 7], [92, 0x7fff0, 19], [116, 0x9, 5],
      [127, 0xffffffc, 28], [128, 0xfffe6, 20], [153, 0x1fffdc, 21], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27],
      [220, 0xffffffd, 28], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    expect(listed.map(([s]) => { const c = huffmanCode(s); return [s, c.code, c.bits]; })).toEqual(listed);
  });

  test('every symbol decodes back from its code (padded with EOS bits)', () => {
    for (let s = 0; s < 256; s++) {
      const { code, bits } = huffmanCode(s);
      const total = Math.ceil(bits / 8) * 8;
      const padded = (BigInt(code) << BigInt(total - bits)) | ((1n << BigInt(total - bits)) - 1n);
      const bytes = Buffer.from(padded.toString(16).padStart(total / 4, '0'), 'hex');
      expect([s, [...huffmanDecode(bytes)]]).toEqual([s, [s]]);
    }
  });

  test('padding of 8 bits or more, padding not of ones, and EOS inside a string are refused', () => {
    expect(() => huffmanDecode(hex('ff'))).toThrow(HuffmanError); // 8 bits of EOS prefix
    expect(() => huffmanDecode(hex('00'))).toThrow(HuffmanError); // '0' (00000) then 000 padding
    expect(() => huffmanDecode(hex('ffff fffc'))).toThrow(HuffmanError); // EOS then 00 padding
    expect(huffmanDecode(hex('07')).toString('latin1')).toBe('0'); // '0' then 111
  });
});

describe('decoder limits and encoder', () => {
  test('a size update above the announced limit, one after a field, an index beyond the tables, a cut block', () => {
    expect(() => new HpackDecoder(256).decode(hex('3fe1 1f'))).toThrow(/size update to 4096/); // 001 11111 + 4065
    expect(() => new HpackDecoder().decode(hex('82 20'))).toThrow(HpackError);
    expect(() => new HpackDecoder().decode(hex('be'))).toThrow(/index 62/);
    expect(() => new HpackDecoder().decode(hex('80'))).toThrow(/index 0/);
    expect(() => new HpackDecoder().decode(hex('040c 2f73'))).toThrow(/inside a string/);
  });

  test('a size update shrinks the table: older entries are evicted, index 62 is then beyond it', () => {
    const d = new HpackDecoder();
    d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    expect(d.decode(hex('be'))).toEqual([['custom-key', 'custom-header']]);
    expect(d.decode(hex('20'))).toEqual([]);
    expect(d.size).toBe(0);
    expect(() => d.decode(hex('be'))).toThrow(/index 62/);
  });

  test('what the encoder writes decodes to the same fields, static entries as one octet', () => {
    const fields: HeaderField[] = [
      [':method', 'POST'], [':scheme', 'http'], [':path', '/tsbuild.control.v1.Control/Solve'], [':authority', 'localhost'],
      ['content-type', 'application/grpc'], ['te', 'trailers'], ['authorization', `Bearer ${'t'.repeat(300)}`], ['x-empty', ''],
    ];
    const block = encodeHeaders(fields);
    expect(block.subarray(0, 2)).toEqual(hex('83 86'));
    expect(new HpackDecoder().decode(block)).toEqual(fields);
  });
});
