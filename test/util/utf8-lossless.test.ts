import { describe, expect, test } from '@jest/globals';
import { decodeUtf8Lossless, hasLoneSurrogate, stringifyJsonLikeGo } from '../../src/util/utf8-lossless.js';

describe('stringifyJsonLikeGo', () => {
  test('an escaped (invalid) byte becomes \\ufffd, as Go writes it', () => {
    const s = decodeUtf8Lossless(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff]));
    expect(hasLoneSurrogate(s)).toBe(true);
    expect(stringifyJsonLikeGo({ Env: [`A=${s}`] })).toBe('{"Env":["A=caf\\ufffd \\ufffd"]}');
  });

  test('valid text, surrogate pairs and an escaped backslash before "udc" are left alone', () => {
    const value = { a: 'caf\u00e9 \u{1f600}', b: '\\udcff', c: '\\\\\udcff' };
    const json = stringifyJsonLikeGo(value);
    expect(JSON.parse(json)).toEqual({ a: value.a, b: '\\udcff', c: '\\\\\ufffd' });
    expect(stringifyJsonLikeGo({ a: value.a, b: value.b })).toBe(JSON.stringify({ a: value.a, b: value.b }));
  });
});
