/**
 * Encoding tar headers: POSIX ustar, with a PAX extended header where ustar cannot hold a value
 * (long or non-ASCII names, big numbers, xattrs). Follows Go's archive/tar (what Docker and
 * containerd write) so layers look familiar to every reader.
 *
 * Why not tar-stream's packer: it encodes PAX values as UTF-8 text, which corrupts binary xattr
 * values such as `security.capability`, and it has no way to write them in a stable order.
 */
import type { TarEntryType, TarHeader } from './tar-types.js';
import { BLOCK, padding } from './tar-types.js';

const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};
const PAX_TYPEFLAG = 0x78; // 'x'

const NAME_SIZE = 100;
const PREFIX_SIZE = 155;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** 8 ** (size - 1) for each field size up to 12: the first value an octal field of `size` bytes cannot hold. */
const OCTAL_LIMITS = Array.from({ length: 13 }, (_, size) => 8 ** Math.max(0, size - 1));

/** Whether `value` fits in an octal field of `size` bytes (size-1 digits and a NUL). */
function fitsOctal(value: number, size: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < (OCTAL_LIMITS[size] ?? 8 ** (size - 1));
}

/**
 * `value` in octal, zero-padded to size-1 digits, then a NUL. A value that fits is written digit by
 * digit: a layer of many small files encodes ten fields per entry, and Buffer#write (a string and
 * a native call each) was most of the header's cost (~40 ms of CPU per 1,000 entries in a fresh
 * daemon). Anything else takes the string path, which writes the same bytes.
 */
function writeOctal(block: Buffer, offset: number, size: number, value: number): void {
  if (fitsOctal(value, size)) {
    let v = value;
    for (let i = offset + size - 2; i >= offset; i--) {
      block[i] = 0x30 + (v % 8);
      v = Math.floor(v / 8);
    }
  } else {
    const digits = value.toString(8).padStart(size - 1, '0');
    block.write(digits, offset, size - 1, 'latin1');
  }
  block[offset + size - 1] = 0;
}

/** The low byte of each UTF-16 unit (Buffer's latin1), at most `size` of them; the block is zeroed. */
function writeString(block: Buffer, offset: number, size: number, s: string): void {
  const n = Math.min(size, s.length);
  for (let i = 0; i < n; i++) block[offset + i] = s.charCodeAt(i) & 0xff;
}

/** Go's splitUSTARPath: a name longer than 100 bytes split at a '/' into prefix (≤155) and name (≤100). */
function splitUstarPath(name: string): { prefix: string; suffix: string } | undefined {
  let length = name.length;
  if (length <= NAME_SIZE || !isAscii(name)) return undefined;
  if (length > PREFIX_SIZE + 1) length = PREFIX_SIZE + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.lastIndexOf('/', length - 1);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > NAME_SIZE || nlen === 0 || i > PREFIX_SIZE) return undefined;
  return { prefix: name.slice(0, i), suffix: name.slice(i + 1) };
}

/** One PAX record: "<len> <key>=<value>\n", where len counts the whole record including itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  // Keys are ASCII except xattr names, which are UTF-8 text to the kernel.
  const body = Buffer.byteLength(key, 'utf8') + value.length + 3; // ' ', '=', '\n'
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`, 'utf8'), value, Buffer.from('\n')]);
}

function rawBlock(opts: {
  name: string; mode: number; uid: number; gid: number; size: number; mtime: number;
  typeflag: number; linkname: string; uname: string; gname: string; devmajor: number; devminor: number; prefix: string;
}): Buffer {
  // From the pool, zeroed: a header of its own memory costs an ArrayBuffer each (issue 14's layers of many small files).
  const b = Buffer.allocUnsafe(BLOCK).fill(0);
  writeString(b, 0, NAME_SIZE, opts.name);
  writeOctal(b, 100, 8, opts.mode);
  writeOctal(b, 108, 8, opts.uid);
  writeOctal(b, 116, 8, opts.gid);
  writeOctal(b, 124, 12, opts.size);
  writeOctal(b, 136, 12, opts.mtime);
  b.fill(0x20, 148, 156); // checksum is computed over spaces
  b[156] = opts.typeflag;
  writeString(b, 157, NAME_SIZE, opts.linkname);
  writeString(b, 257, 8, 'ustar\x0000');
  writeString(b, 265, 32, opts.uname);
  writeString(b, 297, 32, opts.gname);
  writeOctal(b, 329, 8, opts.devmajor);
  writeOctal(b, 337, 8, opts.devminor);
  writeString(b, 345, PREFIX_SIZE, opts.prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i] as number;
  writeOctal(b, 148, 7, sum);
  return b;
}

/** PaxHeaders.0/<base> beside the entry, like Go; only informative, readers ignore it. */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const slash = trimmed.lastIndexOf('/');
  const dir = slash >= 0 ? trimmed.slice(0, slash + 1) : '';
  const base = slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
  let s = `${dir}PaxHeaders.0/${base}`;
  s = [...s].map((c) => (c.charCodeAt(0) < 0x80 ? c : '_')).join('');
  return s.slice(0, NAME_SIZE);
}

/**
 * The header block(s) of one entry: an optional PAX extended header (its block, records and
 * padding) followed by the ustar block. The body and its padding are the caller's.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const records = new Map<string, Buffer>();
  let name = h.name;
  let prefix = '';
  if (name.length > NAME_SIZE || !isAscii(name)) {
    const split = splitUstarPath(name);
    if (split) {
      prefix = split.prefix;
      name = split.suffix;
    } else {
      records.set('path', Buffer.from(h.name, 'latin1'));
      name = paxHeaderName(h.name).slice(0, NAME_SIZE);
    }
  }
  let linkname = h.linkname;
  if (linkname.length > NAME_SIZE || !isAscii(linkname)) {
    records.set('linkpath', Buffer.from(linkname, 'latin1'));
    linkname = '';
  }
  const numeric: Array<[string, number, number]> = [['uid', h.uid, 8], ['gid', h.gid, 8], ['size', h.size, 12], ['mtime', h.mtime, 12]];
  const fields: Record<string, number> = {};
  for (const [key, value, size] of numeric) {
    if (fitsOctal(value, size)) {
      fields[key] = value;
    } else {
      records.set(key, Buffer.from(String(value)));
      fields[key] = 0;
    }
  }
  let uname = h.uname;
  let gname = h.gname;
  if (uname.length > 32 || !isAscii(uname)) {
    records.set('uname', Buffer.from(uname, 'latin1'));
    uname = '';
  }
  if (gname.length > 32 || !isAscii(gname)) {
    records.set('gname', Buffer.from(gname, 'latin1'));
    gname = '';
  }
  for (const [key, value] of h.xattrs) records.set(`SCHILY.xattr.${key}`, value);
  if (!fitsOctal(h.devmajor, 8) || !fitsOctal(h.devminor, 8) || !fitsOctal(h.mode, 8)) {
    throw new RangeError(`tar entry ${h.name}: device numbers or mode out of range`);
  }

  const main = rawBlock({
    name, prefix, linkname, uname, gname,
    mode: h.mode, uid: fields.uid ?? 0, gid: fields.gid ?? 0, size: fields.size ?? 0, mtime: fields.mtime ?? 0,
    typeflag: TYPEFLAG[h.type], devmajor: h.devmajor, devminor: h.devminor,
  });
  if (records.size === 0) return main;

  // Sorted by key for byte-stable output, as Go does.
  const keys = [...records.keys()].sort();
  const data = Buffer.concat(keys.map((k) => paxRecord(k, records.get(k) as Buffer)));
  const pax = rawBlock({
    name: paxHeaderName(h.name), prefix: '', linkname: '', uname: '', gname: '',
    mode: 0, uid: 0, gid: 0, size: data.length, mtime: 0, typeflag: PAX_TYPEFLAG, devmajor: 0, devminor: 0,
  });
  return Buffer.concat([pax, data, Buffer.alloc(padding(data.length)), main]);
}

/** Two zero blocks: the end-of-archive marker (Go writes exactly this, without record padding). */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
