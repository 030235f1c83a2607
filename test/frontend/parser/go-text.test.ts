import { describe, expect, test } from '@jest/globals';
import { goQuote, goToLower, goTrimSpace } from '../../../src/frontend/dockerfile/go-text.js';
import { decodeUtf8Lossless, encodeUtf8Lossless } from '../../../src/util/utf8-lossless.js';

describe('Go string semantics', () => {
  test.each([
    ['abc', '"abc"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x07\b\f\n\r\t\v\x00\x1b\x7f', '"\\a\\b\\f\\n\\r\\t\\v\\x00\\x1b\\x7f"'],
    ['♥ é 😀', '"♥ é 😀"'],
    ['\u0085\u00a0\u00ad\u2028\ue000\u{10ffff}', '"\\u0085\\u00a0\\u00ad\\u2028\\ue000\\U0010ffff"'],
  ])('strconv.Quote(%j) = %s', (s, q) => {
    expect(goQuote(s)).toBe(q);
  });

  test('unicode.IsSpace differs from JavaScript\'s \\s', () => {
    expect(goTrimSpace('\u0085 a \u3000')).toBe('a');
    expect(goTrimSpace('\ufeffa')).toBe('\ufeffa');
  });

  test('strings.ToLower uses simple case mapping', () => {
    expect(goToLower('RUN')).toBe('run');
    expect(goToLower('İΣ')).toBe('iσ');
  });

  test('lossless decoding keeps invalid bytes and round-trips', () => {
    const bytes = Buffer.from([0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82]);
    const s = decodeUtf8Lossless(bytes);
    expect(goQuote(s)).toBe('"a\\xff\\xc3(\\xed\\xa0\\x80😀\\xe2\\x82"');
    expect(encodeUtf8Lossless(s)).toEqual(bytes);
  });
});
