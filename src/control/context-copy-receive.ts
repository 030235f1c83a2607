/**
 * How a sync of the daemon's context copy (solve-context-sync.ts, solve-context-sync-delta.ts)
 * receives the files it asked the client for: each written in place when it comes whole in one
 * chunk (context-copy-write.ts), else streamed aside and renamed into place once whole. It fails
 * when the client sends a file it was not asked for, ends before sending one it was, or sends more
 * bytes than the daemon accepts.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { StatCacheEntry } from '../cache/types.js';
import type { tsbuild } from '../client/gen/control.js';
import { DaemonErrors } from './errors.js';
import { writeNewFile } from './context-copy-write.js';
import type { WrittenContent } from './context-copy-write.js';
import { SolveContextErrors } from './solve-context-errors.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

/** One file's bytes as the client streams them (FileChunk). */
export interface IncomingChunk {
  readonly fileId: number;
  readonly data: Uint8Array;
  readonly eof: boolean;
}

/** Asks the client for these files and yields their chunks until each has ended. */
export type FetchFiles = (fileIds: readonly number[]) => AsyncIterable<IncomingChunk>;

export interface ReceiveOptions {
  /** `--max-context-size`; 0: unlimited. */
  readonly maxBytes: number;
  /** Gets the entries written whole with their attributes. */
  readonly settled?: Set<FileStat>;
  /** Gets the stat cache rows of the files written whole, with their digests by `written` (given with it). */
  readonly rows?: StatCacheEntry[] | undefined;
  readonly written?: WrittenContent | undefined;
}

/** Whole files written between yields to the event loop (other builds keep moving). */
const WRITE_BATCH = 256;

/** Fetches `wanted` into `dir`; the bytes received. */
export async function receiveFiles(dir: string, wanted: readonly FileStat[], fetch: FetchFiles, opts: ReceiveOptions): Promise<{ bytes: number }> {
  if (wanted.length === 0) return { bytes: 0 };
  const { settled, rows } = opts;
  const byId = new Map(wanted.map((e) => [e.fileId ?? 0, e]));
  // Files that come in several chunks are streamed here and renamed into place once whole; the
  // directory is made when the first such file arrives (small contexts never need it).
  const incoming = `${dir}.incoming`;
  let incomingMade = false;
  let bytes = 0;
  let written = 0;
  const open = new Map<number, ReturnType<typeof createWriteStream>>();
  try {
    for await (const c of fetch(wanted.map((e) => e.fileId ?? 0))) {
      const e = byId.get(c.fileId);
      if (!e) throw SolveContextErrors.protocol(`a file chunk for file ${c.fileId}, which was not requested`);
      bytes += c.data.length;
      if (opts.maxBytes > 0 && bytes > opts.maxBytes) throw DaemonErrors.contextTooLarge(opts.maxBytes);
      let out = open.get(c.fileId);
      if (!out && c.eof) {
        // A whole file in one chunk (small files come so, packed many to a message): written in
        // place at once, synchronously — for many small files a stream, a flush, a temp name and
        // a rename each cost more than the write.
        const st = writeNewFile(join(dir, e.path ?? ''), c.data, e, rows !== undefined);
        settled?.add(e);
        if (st && opts.written) rows?.push({ path: e.path ?? '', size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode, digest: opts.written.digest(c.data) });
        byId.delete(c.fileId);
        if (byId.size === 0) break;
        if (++written % WRITE_BATCH === 0) await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (!out) {
        if (!incomingMade) {
          await rm(incoming, { recursive: true, force: true });
          await mkdir(incoming);
          incomingMade = true;
        }
        out = createWriteStream(join(incoming, String(c.fileId)));
        open.set(c.fileId, out);
      }
      if (c.data.length > 0 && !out.write(c.data)) await new Promise<void>((r) => out?.once('drain', () => r()));
      if (c.eof) {
        out.end();
        await finished(out);
        await rename(join(incoming, String(c.fileId)), join(dir, e.path ?? ''));
        byId.delete(c.fileId);
        if (byId.size === 0) break;
      }
    }
    if (byId.size > 0) throw SolveContextErrors.protocol(`the client ended before sending ${byId.size} requested file(s)`);
    return { bytes };
  } finally {
    for (const s of open.values()) s.destroy();
    if (incomingMade) await rm(incoming, { recursive: true, force: true });
  }
}
