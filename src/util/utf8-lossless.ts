/**
 * Lossless UTF-8 decoding. BuildKit works on bytes: an invalid UTF-8 byte stays that byte and its
 * dump shows it as `\xHH`. JavaScript strings cannot hold raw bytes, so each byte that is not part
 * of a valid UTF-8 sequence is decoded to the lone low surrogate U+DC00+byte (PEP 383's
 * "surrogateescape"). Valid UTF-8 never decodes to a lone surrogate, so the mapping is reversible
 * and `encodeUtf8Lossless` gives the original bytes back.
 */
import { isUtf8 } from 'node:buffer';

/** First and last code unit used for escaped bytes (0x80–0xFF; ASCII is always valid). */
const ESCAPE_LO = 0xdc80;
const ESCAPE_HI = 0xdcff;

/** True when the code point (from codePointAt) stands for one invalid input byte. */
export function isEscapedByte(codePoint: number): boolean {
  return codePoint >= ESCAPE_LO && codePoint <= ESCAPE_HI;
}

/** Decodes bytes to a string, mapping every invalid byte to U+DC80..U+DCFF (see module doc). */
export function decodeUtf8Lossless(buf: Uint8Array): string {
  if (isUtf8(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  const units: number[] = [];
  let out = '';
  const flush = (): void => {
    out += String.fromCharCode(...units);
    units.length = 0;
  };
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b0 = buf[i] as number;
    let cp = -1;
    let width = 1;
    if (b0 < 0x80) {
      cp = b0;
    } else if (b0 >= 0xc2 && b0 <= 0xdf && i + 1 < n) {
      const b1 = buf[i + 1] as number;
      if ((b1 & 0xc0) === 0x80) {
        cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
        width = 2;
      }
    } else if (b0 >= 0xe0 && b0 <= 0xef && i + 2 < n) {
      const b1 = buf[i + 1] as number;
      const b2 = buf[i + 2] as number;
      // Reject overlong forms (E0 80..9F) and UTF-16 surrogates (ED A0..BF), as Go does.
      const lo = b0 === 0xe0 ? 0xa0 : 0x80;
      const hi = b0 === 0xed ? 0x9f : 0xbf;
      if (b1 >= lo && b1 <= hi && (b2 & 0xc0) === 0x80) {
        cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        width = 3;
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4 && i + 3 < n) {
      const b1 = buf[i + 1] as number;
      const b2 = buf[i + 2] as number;
      const b3 = buf[i + 3] as number;
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      if (b1 >= lo && b1 <= hi && (b2 & 0xc0) === 0x80 && (b3 & 0xc0) === 0x80) {
        cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
        width = 4;
      }
    }
    if (cp < 0) {
      units.push(0xdc00 + b0);
    } else if (cp >= 0x10000) {
      const v = cp - 0x10000;
      units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      units.push(cp);
    }
    i += width;
    if (units.length >= 8192) flush();
  }
  flush();
  return out;
}

/** The inverse of decodeUtf8Lossless: escaped bytes become raw bytes again. */
export function encodeUtf8Lossless(s: string): Buffer {
  if (!/[\udc80-\udcff]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (isEscapedByte(c)) {
      parts.push(Buffer.from(s.slice(start, i), 'utf8'), Buffer.from([c - 0xdc00]));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(s.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** Number of bytes the (losslessly decoded) string had in the source. */
export function utf8ByteLength(s: string): number {
  let n = Buffer.byteLength(s, 'utf8');
  // Buffer.byteLength counts a lone surrogate as 3 bytes; an escaped byte was 1.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isEscapedByte(c)) {
      const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
      if (!(prev >= 0xd800 && prev <= 0xdbff)) n -= 2;
    }
  }
  return n;
}

/** True when `s` holds a lone surrogate: an escaped byte, or a code unit no UTF-8 can express. */
export function hasLoneSurrogate(s: string): boolean {
  return !(s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * JSON.stringify as Go's encoding/json writes the same data: where JavaScript escapes a lone
 * surrogate (`\udcff`, here an invalid source byte), Go writes `\ufffd` for the invalid byte. Image
 * configs go through this so a Dockerfile with Latin-1 bytes yields Docker's config bytes.
 */
export function stringifyJsonLikeGo(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes('\\ud')) return json;
  // A `\uDxxx` escape preceded by an even number of backslashes (an escaped backslash is `\\`).
  return json.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd');
}
