/**
 * Which files of a full listing travel unasked when the daemon's copy is empty
 * (ListFiles.send_contents, ContextEntries.contents_follow), and which of a journal delta's entries
 * when the daemon takes them (ListFiles.delta_contents): each listed regular file whose listed size
 * is at most 256 KiB, in listing order. The client sends them right after its last listing batch
 * (or its delta) and the daemon expects exactly these, so both sides decide with this one function.
 */
import type { tsbuild } from './gen/control.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** The listed size above which a file is only sent when fetched. */
export const UNASKED_MAX_BYTES = 256 * 1024;

/** The file ids of `entries` that follow the listing unasked, in listing order. */
export function unaskedFileIds(entries: readonly FileStat[]): number[] {
  const ids: number[] = [];
  for (const e of entries) {
    if (((e.mode ?? 0) & S_IFMT) === S_IFREG && Number(e.size ?? 0) <= UNASKED_MAX_BYTES && (e.fileId ?? 0) !== 0) ids.push(e.fileId ?? 0);
  }
  return ids;
}
