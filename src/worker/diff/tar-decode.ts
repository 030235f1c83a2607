/**
 * Decoding tar header blocks and PAX records, strictly: every number is checked, every length
 * bounded, so a hostile layer gets one clear error instead of a misparse.
 */
import { LayerError, LayerErrorCode } from './errors.js';
import { BLOCK } from './tar-types.js';

/** A decoded header block before PAX/GNU extensions are applied. */
export interface RawHeader {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function cString(b: Buffer, start: number, size: number): string {
  const end = b.indexOf(0, start);
  return b.toString('latin1', start, end === -1 || end > start + size ? start + size : end);
}

/** Octal (space/NUL padded) or GNU base-256; throws on anything else. */
function parseNumber(b: Buffer, start: number, size: number, field: string, offset: number): number {
  const first = b[start] ?? 0;
  if (first === 0x80 || first === 0xff) {
    // base-256, big-endian two's complement; BigInt so a huge or negative value cannot round to 0
    let v = 0n;
    for (let i = start + 1; i < start + size; i++) v = v * 256n + BigInt(b[i] ?? 0);
    if (first === 0xff) v -= 256n ** BigInt(size - 1);
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${field} field out of range`, offset);
    return Number(v);
  }
  const text = b.toString('latin1', start, start + size).replace(/[\0 ]+$/, '').replace(/^[ \0]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw malformed(`${field} field is not an octal number: ${JSON.stringify(text)}`, offset);
  const v = parseInt(text, 8);
  if (!Number.isSafeInteger(v)) throw malformed(`${field} field out of range`, offset);
  return v;
}

function malformed(reason: string, offset: number, entry?: string): LayerError {
  return new LayerError(LayerErrorCode.malformed, reason, entry === undefined ? { offset } : { offset, entry });
}

export function decodeHeader(b: Buffer, offset: number): RawHeader {
  if (b.length !== BLOCK) throw malformed('short header block', offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (b[i] as number);
    unsigned += v;
    signed += v >= 0x80 ? v - 256 : v;
  }
  const rawName = cString(b, 0, 100);
  let stored: number;
  try {
    stored = parseNumber(b, 148, 8, 'checksum', offset);
  } catch {
    throw malformed('not a tar header (the checksum field is not a number)', offset);
  }
  if (stored !== unsigned && stored !== signed) {
    throw malformed(`header checksum mismatch (not a tar, or corrupted${rawName ? ` near ${JSON.stringify(rawName)}` : ''})`, offset);
  }
  const magic = b.toString('latin1', 257, 263);
  const typeflag = String.fromCharCode(b[156] as number);
  let name = rawName;
  // POSIX ustar keeps a path prefix at 345; GNU's old format ("ustar  ") uses that area for times.
  if (magic === 'ustar\0') {
    const prefix = cString(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(b, 100, 8, 'mode', offset),
    uid: parseNumber(b, 108, 8, 'uid', offset),
    gid: parseNumber(b, 116, 8, 'gid', offset),
    size: parseNumber(b, 124, 12, 'size', offset),
    mtime: parseNumber(b, 136, 12, 'mtime', offset),
    typeflag,
    linkname: cString(b, 157, 100),
    uname: magic.startsWith('ustar') ? cString(b, 265, 32) : '',
    gname: magic.startsWith('ustar') ? cString(b, 297, 32) : '',
    devmajor: magic.startsWith('ustar') ? parseNumber(b, 329, 8, 'devmajor', offset) : 0,
    devminor: magic.startsWith('ustar') ? parseNumber(b, 337, 8, 'devminor', offset) : 0,
  };
}

/** PAX records; keys as UTF-8 text, values as raw bytes. */
export function decodePaxRecords(data: Buffer, offset: number): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1 || space - pos > 20) throw malformed('PAX record without a length', offset);
    const lenText = data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]*$/.test(lenText)) throw malformed(`PAX record length ${JSON.stringify(lenText)} is not a number`, offset);
    const len = parseInt(lenText, 10);
    const end = pos + len;
    if (end > data.length || data[end - 1] !== 0x0a) throw malformed('PAX record length does not match its content', offset);
    const eq = data.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1) throw malformed('PAX record without "="', offset);
    const key = data.toString('utf8', space + 1, eq);
    if (key === '') throw malformed('PAX record with an empty key', offset);
    // An empty value deletes the key (POSIX; the header's own field stays, see buildHeader); a
    // record later in the header wins.
    const value = Buffer.from(data.subarray(eq + 1, end - 1));
    out.set(key, value);
    pos = end;
  }
  return out;
}

/** A decimal PAX number (size, uid, gid); mtime may have a fraction. */
export function paxNumber(v: Buffer, key: string, offset: number, allowFraction: boolean): number {
  const text = v.toString('latin1');
  const re = allowFraction ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  if (!re.test(text)) throw malformed(`PAX ${key}=${JSON.stringify(text)} is not a valid number`, offset);
  const n = Number(text);
  if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) throw malformed(`PAX ${key} out of range`, offset);
  return n;
}
