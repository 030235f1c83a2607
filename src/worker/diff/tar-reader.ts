/**
 * A streaming tar reader for layers: ustar, PAX and GNU long names; PAX global headers are checked
 * and skipped (Docker ignores them). Entries come one at a time; an entry's body must be read (or
 * is skipped) before the next entry is produced. Memory stays bounded by one input chunk plus the
 * extended-header limit.
 */
import { throwIfAborted } from '../../util/errors.js';
import { ByteReader } from './byte-reader.js';
import { LayerError, LayerErrorCode } from './errors.js';
import { decodeHeader, decodePaxRecords, isZeroBlock, paxNumber } from './tar-decode.js';
import type { RawHeader } from './tar-decode.js';
import type { TarEntryType, TarHeader } from './tar-types.js';
import { BLOCK, padding } from './tar-types.js';

export interface TarReaderOptions {
  readonly signal?: AbortSignal;
  /** Largest PAX or GNU long-name header accepted. Default 1 MiB. */
  readonly maxExtendedHeaderBytes?: number;
}

export interface TarEntry {
  readonly header: TarHeader;
  /** Offset of the entry's first header block (its PAX header if it has one). */
  readonly offset: number;
  /** The body, in chunks that are only valid until the next chunk is requested. */
  body(): AsyncGenerator<Buffer, void, undefined>;
}

export interface TarReadResult {
  /** Bytes after the end-of-archive marker (drained, so a digest covers the whole stream). */
  readonly trailingBytes: number;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};
/** Entry types whose size field Go (and so Docker) ignores: they never have a body. */
const HEADER_ONLY: ReadonlySet<TarEntryType> = new Set(['hardlink', 'symlink', 'char', 'block', 'dir', 'fifo']);

function unexpectedEnd(what: string, offset: number, entry?: string): LayerError {
  return new LayerError(LayerErrorCode.malformed, `unexpected end of layer ${what}`, entry === undefined ? { offset } : { offset, entry });
}

interface Pending {
  pax: Map<string, Buffer> | undefined;
  longName: string | undefined;
  longLink: string | undefined;
  start: number | undefined;
}

export async function* readTar(source: AsyncIterable<Uint8Array>, opts: TarReaderOptions = {}): AsyncGenerator<TarEntry, TarReadResult, undefined> {
  const maxExt = opts.maxExtendedHeaderBytes ?? 1024 * 1024;
  const r = new ByteReader(source[Symbol.asyncIterator]());
  let pending: Pending = { pax: undefined, longName: undefined, longLink: undefined, start: undefined };

  for (;;) {
    throwIfAborted(opts.signal);
    const offset = r.offset;
    const block = await r.readExact(BLOCK);
    if (block === undefined) {
      // Go accepts a stream that ends on an entry boundary without the zero blocks; so do we,
      // unless an extended header was left dangling.
      if (pending.pax || pending.longName !== undefined || pending.longLink !== undefined) throw unexpectedEnd('after an extended header', offset);
      return { trailingBytes: 0 };
    }
    if (block === 'short') throw unexpectedEnd('inside a header block', offset);
    if (isZeroBlock(block)) {
      const trailingBytes = await r.drain();
      return { trailingBytes };
    }
    const raw = decodeHeader(block, offset);
    const start = pending.start ?? offset;

    switch (raw.typeflag) {
      case 'x': {
        // As in Go: a second extended header replaces the first rather than adding to it.
        pending.pax = decodePaxRecords(await readExtended(r, raw, maxExt, offset), offset);
        pending.start ??= offset;
        continue;
      }
      case 'g': {
        // A global header is checked and then ignored, as Docker's applier ignores the 'g' entries
        // Go's reader hands it. Go returns it as an entry of its own, so what was pending (an
        // extended header or GNU long name before it) is dropped too.
        decodePaxRecords(await readExtended(r, raw, maxExt, offset), offset);
        pending = { pax: undefined, longName: undefined, longLink: undefined, start: undefined };
        continue;
      }
      case 'L':
      case 'K': {
        const data = await readExtended(r, raw, maxExt, offset);
        const end = data.indexOf(0);
        const text = data.toString('latin1', 0, end === -1 ? data.length : end);
        if (raw.typeflag === 'L') pending.longName = text;
        else pending.longLink = text;
        pending.start ??= offset;
        continue;
      }
      default:
        break;
    }

    const header = buildHeader(raw, pending.pax ?? new Map<string, Buffer>(), pending, start);
    pending = { pax: undefined, longName: undefined, longLink: undefined, start: undefined };
    const bodySize = HEADER_ONLY.has(header.type) ? 0 : header.size;

    let left = bodySize;
    let current = true;
    const entry: TarEntry = {
      header,
      offset: start,
      async *body() {
        while (left > 0) {
          if (!current) throw new Error('tar entry body read after the next entry was requested');
          throwIfAborted(opts.signal);
          const chunk = await r.readSome(left);
          if (!chunk) throw unexpectedEnd(`inside the body (${left} of ${bodySize} bytes missing)`, start, header.name);
          left -= chunk.length;
          yield chunk;
        }
      },
    };
    yield entry;
    current = false;
    if (!(await r.skip(left + padding(bodySize)))) {
      if (left > 0) throw unexpectedEnd(`inside the body (${left} of ${bodySize} bytes missing)`, start, header.name);
      // A missing final padding is harmless: the entry is complete.
    }
  }
}

async function readExtended(r: ByteReader, raw: RawHeader, maxExt: number, offset: number): Promise<Buffer> {
  if (raw.size > maxExt) {
    throw new LayerError(LayerErrorCode.malformed, `extended header of ${raw.size} bytes exceeds the ${maxExt}-byte limit`, { offset });
  }
  const data = raw.size === 0 ? Buffer.alloc(0) : await r.readExact(raw.size);
  if (data === undefined || data === 'short') throw unexpectedEnd('inside an extended header', offset);
  const copy = Buffer.from(data);
  if (!(await r.skip(padding(raw.size)))) throw unexpectedEnd('inside an extended header', offset);
  return copy;
}

/**
 * The entry's header with its extensions applied the way Go's archive/tar applies them (so a layer
 * means here what it means to Docker): PAX records first, an empty value keeping the header's own
 * field; then GNU long names and links, which win over PAX `path`/`linkpath`.
 */
function buildHeader(raw: RawHeader, pax: Map<string, Buffer>, pending: Pending, offset: number): TarHeader {
  let name = raw.name;
  let linkname = raw.linkname;
  let { size, uid, gid, mtime } = raw;
  let { uname, gname } = raw;
  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (value.length === 0) continue;
    switch (key) {
      case 'path':
        name = value.toString('latin1');
        break;
      case 'linkpath':
        linkname = value.toString('latin1');
        break;
      case 'size':
        size = paxNumber(value, key, offset, false);
        break;
      case 'uid':
        uid = paxNumber(value, key, offset, false);
        break;
      case 'gid':
        gid = paxNumber(value, key, offset, false);
        break;
      case 'mtime':
        mtime = paxNumber(value, key, offset, true);
        break;
      case 'uname':
        uname = value.toString('latin1');
        break;
      case 'gname':
        gname = value.toString('latin1');
        break;
      default:
        if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
        else if (key.startsWith('GNU.sparse.')) {
          throw new LayerError(LayerErrorCode.unsupported, 'sparse files are not supported', { offset, entry: name });
        }
      // Other keys (atime, ctime, comment, charset, vendor keys) carry nothing a layer needs.
    }
  }
  if (pending.longName) name = pending.longName;
  if (pending.longLink) linkname = pending.longLink;
  if (name.includes('\0') || linkname.includes('\0')) {
    throw new LayerError(LayerErrorCode.malformed, 'name contains a NUL byte', { offset, entry: name.replace(/\0/g, '\\0') });
  }
  if (name === '') throw new LayerError(LayerErrorCode.malformed, 'entry with an empty name', { offset });
  if (size < 0 || uid < 0 || gid < 0) throw new LayerError(LayerErrorCode.malformed, 'negative size, uid or gid', { offset, entry: name });
  let type = TYPES[raw.typeflag];
  if (type === undefined) {
    const what = raw.typeflag === 'S' ? 'GNU sparse file' : `entry type ${JSON.stringify(raw.typeflag)}`;
    throw new LayerError(LayerErrorCode.unsupported, `${what} is not supported`, { offset, entry: name });
  }
  // Old tars mark directories only with a trailing slash.
  if (type === 'file' && raw.typeflag !== '7' && name.endsWith('/')) type = 'dir';
  return {
    name, type, size, uid, gid, mtime, linkname, uname, gname,
    mode: raw.mode & 0o7777,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs,
  };
}
