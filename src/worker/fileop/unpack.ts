/**
 * ADD's archive unpacking: a local tar (plain or compressed) is merged into a destination directory,
 * as Docker does. Every entry path is resolved inside the extraction directory (a `..` escaping it
 * is an error; symlinks met on the way are followed as if the directory were `/`), so an archive
 * cannot write outside it, not even through a symlink it planted itself. Whiteout entries (`.wh.*`)
 * are ignored. Owners come from the headers unless `--chown` overrides them; `--chmod` does not apply
 * (as in BuildKit). Directory times are set after their contents.
 */
import { chmod, lchown, link, lstat, mkdir, open, rm, symlink } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { posix } from 'node:path';
import tar, { type Header } from 'tar-stream';
import { isTsbuildError, throwIfAborted, type SourceLocation } from '../../util/errors.js';
import type { Compression } from '../../util/compression.js';
import { openDecompressed } from './decompress.js';
import { fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import { setTimes, setXattr } from './metadata.js';
import { resolveInRoot } from './root-path.js';
import { makeSpecialFile } from './special-files.js';
import type { Owner } from './types.js';

export interface UnpackOptions {
  /** The archive on the host. */
  readonly archive: string;
  /** How the archive is named in messages (its path in the source root). */
  readonly archiveName: string;
  readonly compression: Compression;
  /** Host path of the (existing) directory to merge into. */
  readonly dest: string;
  /** Overrides every entry's owner (`--chown`). */
  readonly owner: Owner | undefined;
  readonly location?: SourceLocation | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface UnpackResult {
  readonly entries: number;
  readonly bytes: number;
}

interface DirTime {
  readonly path: string;
  readonly mtime: number;
}

/** Unpacks the archive into `dest`. */
export async function unpackArchive(opts: UnpackOptions): Promise<UnpackResult> {
  const input = openDecompressed(opts.archive, opts.compression, opts.signal);
  // v7 archives have no ustar magic; detection accepted them, so extraction must too.
  const extract = tar.extract({ allowUnknownFormat: true } as Parameters<typeof tar.extract>[0]);
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract as unknown as NodeJS.WritableStream);
  const dirTimes: DirTime[] = [];
  let entries = 0;
  let bytes = 0;
  try {
    for await (const entry of extract) {
      throwIfAborted(opts.signal);
      const written = await unpackEntry(entry as unknown as TarEntry, opts, dirTimes);
      if (written) {
        entries++;
        bytes += written.bytes;
      }
      entry.resume();
    }
  } catch (e) {
    if (isTsbuildError(e)) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw fileOpUserError('FILEOP_ARCHIVE_CORRUPT', [opts.archiveName, why], { location: opts.location, cause: e });
  } finally {
    input.destroy();
  }
  for (const d of dirTimes.reverse()) await setTimes(d.path, { atimeMs: d.mtime * 1000, mtimeMs: d.mtime * 1000 }, undefined);
  return { entries, bytes };
}

/** The entry name made relative and clean; undefined for the root itself. Throws when it escapes. */
function cleanEntryName(name: string, opts: UnpackOptions): string | undefined {
  const cleaned = posix.normalize(name.replace(/^\/+/, ''));
  if (cleaned === '.' || cleaned === '' || cleaned === './') return undefined;
  if (cleaned === '..' || cleaned.startsWith('../')) {
    throw fileOpUserError('FILEOP_ARCHIVE_ESCAPE', [opts.archiveName, name], { location: opts.location });
  }
  return cleaned.replace(/\/+$/, '');
}

/** What tar-stream yields per entry: its header and a readable of its content. */
type TarEntry = AsyncIterable<Buffer> & { readonly header: Header; resume(): unknown };

async function unpackEntry(entry: TarEntry, opts: UnpackOptions, dirTimes: DirTime[]): Promise<{ bytes: number } | undefined> {
  const h = entry.header;
  const type = h.type;
  const name = cleanEntryName(h.name, opts);
  if (name === undefined) return undefined;
  if (posix.basename(name).startsWith('.wh.')) return undefined;
  const isDir = type === 'directory';
  const target = await resolveInRoot(opts.dest, name, { followFinal: isDir, location: opts.location });
  await ensureParents(opts.dest, posix.dirname(target.inRoot), opts);
  const existing = await lstatOrUndefined(target.host);
  if (existing && !(existing.isDirectory() && isDir)) await rm(target.host, { recursive: true, force: true });

  const uid = opts.owner?.uid ?? h.uid ?? 0;
  const gid = opts.owner?.gid ?? h.gid ?? 0;
  const mode = (h.mode ?? (isDir ? 0o755 : 0o644)) & 0o7777;
  const mtime = (h.mtime?.getTime() ?? Date.now()) / 1000;
  let bytes = 0;
  try {
    switch (type) {
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(target.host, 0o755);
        dirTimes.push({ path: target.host, mtime });
        break;
      case 'file':
      case 'contiguous-file':
        bytes = await writeEntry(entry, target.host);
        break;
      case 'symlink':
        await symlink(h.linkname ?? '', target.host);
        break;
      case 'link': {
        const linkName = cleanEntryName(h.linkname ?? '', opts);
        if (linkName === undefined) {
          throw fileOpUserError('FILEOP_ARCHIVE_ESCAPE', [opts.archiveName, h.linkname ?? ''], { location: opts.location });
        }
        const source = await resolveInRoot(opts.dest, linkName, { followFinal: false, location: opts.location });
        await link(source.host, target.host);
        break;
      }
      case 'fifo':
      case 'character-device':
      case 'block-device':
        await makeSpecialFile(target.host, {
          kind: type === 'fifo' ? 'fifo' : type === 'character-device' ? 'char' : 'block',
          mode,
          major: h.devmajor ?? 0,
          minor: h.devminor ?? 0,
          signal: opts.signal,
        });
        break;
      default:
        return undefined;
    }
    await lchown(target.host, uid, gid);
    if (type !== 'symlink') await chmod(target.host, mode);
  } catch (e) {
    throw fileOpIoError(`unpack ${name} from ${opts.archiveName}`, e);
  }
  const pax = (h.pax ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(pax)) {
    if (k.startsWith('SCHILY.xattr.')) {
      await setXattr(target.host, k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'utf8'), { isSymlink: type === 'symlink' });
    }
  }
  if (type !== 'directory') await setTimes(target.host, { atimeMs: mtime * 1000, mtimeMs: mtime * 1000 }, undefined);
  return { bytes };
}

/** Streams an entry's content into a new file (O_EXCL: never through a link that appeared meanwhile). */
async function writeEntry(entry: AsyncIterable<Buffer>, path: string): Promise<number> {
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let n = 0;
  try {
    for await (const chunk of entry) {
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
      n += chunk.length;
    }
  } finally {
    await fh.close();
  }
  return n;
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Creates missing parents of an entry (0755, owned by --chown or root), as BuildKit's unpacker. */
async function ensureParents(root: string, dirInRoot: string, opts: UnpackOptions): Promise<void> {
  let cur = '/';
  for (const c of dirInRoot.split('/').filter((x) => x !== '')) {
    cur = posix.join(cur, c);
    const host = posix.join(root, cur);
    const st = await lstatOrUndefined(host);
    if (st?.isDirectory()) continue;
    if (st) throw fileOpUserError('FILEOP_PARENT_NOT_DIR', [cur], { location: opts.location });
    await mkdir(host, 0o755);
    await chmod(host, 0o755);
    await lchown(host, opts.owner?.uid ?? 0, opts.owner?.gid ?? 0);
  }
}
