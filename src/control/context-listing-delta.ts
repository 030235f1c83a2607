/**
 * Merging a client's delta listing (ContextEntries.delta, answering ListFiles.journal_delta) into
 * the listing the daemon's copy was last synced to, so that a one-file edit of a large context
 * sends one entry instead of all of them. The result must be exactly the listing a full walk
 * would produce — same entries, same walk order (depth first, siblings in byte order, parents
 * before children: src/util/pattern-matcher/walk-context.ts) — because its digest is what the next
 * build's client compares its own walk with. A delta that would need knowledge the daemon lacks —
 * a directory that appears (its contents were never listed), disappears or changes kind (its
 * children would go with it), or an entry whose parent is not a listed directory — is refused
 * (undefined), and the daemon asks for a full listing instead.
 *
 * Entries kept from the previous listing get file id 0 (their ids numbered another build's
 * listing): the sync must never need to fetch one, since the copy already holds them.
 */
import type { tsbuild } from '../client/gen/control.js';
import { compareGoStrings } from '../util/pattern-matcher/go-compat.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

function isDir(e: FileStat): boolean {
  return ((e.mode ?? 0) & S_IFMT) === S_IFDIR;
}

/** Walk order: component by component in byte order, a directory before what is beneath it. */
export function compareWalkOrder(a: string, b: string): number {
  if (a === b) return 0;
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareGoStrings(pa[i] as string, pb[i] as string);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** The index of `path` in `list` (walk order), or -(insertion point) - 1. */
export function search(list: readonly FileStat[], path: string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareWalkOrder((list[mid] as FileStat).path ?? '', path);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * `previous` (a full listing, walk order) with `changed` entries put in place and `removed` paths
 * taken out; undefined when that cannot be known to equal a walk (see the header).
 */
export function mergeListing(previous: readonly FileStat[], changed: readonly FileStat[], removed: readonly string[]): FileStat[] | undefined {
  const replace = new Map<number, FileStat>();
  const drop = new Set<number>();
  const inserts: { readonly at: number; readonly entry: FileStat }[] = [];
  const touched = new Set<string>();
  for (const path of removed) {
    if (touched.has(path)) return undefined;
    touched.add(path);
    const i = search(previous, path);
    if (i < 0) continue;
    if (isDir(previous[i] as FileStat)) return undefined;
    drop.add(i);
  }
  for (const e of changed) {
    const path = e.path ?? '';
    if (path === '' || touched.has(path)) return undefined;
    touched.add(path);
    const i = search(previous, path);
    if (i >= 0) {
      if (isDir(previous[i] as FileStat) !== isDir(e)) return undefined;
      replace.set(i, e);
      continue;
    }
    if (isDir(e)) return undefined;
    const parent = parentOf(path);
    if (parent !== '') {
      const p = search(previous, parent);
      if (p < 0 || drop.has(p) || !isDir(previous[p] as FileStat)) return undefined;
    }
    inserts.push({ at: -i - 1, entry: e });
  }
  inserts.sort((a, b) => a.at - b.at || compareWalkOrder(a.entry.path ?? '', b.entry.path ?? ''));
  const out: FileStat[] = [];
  let next = 0;
  for (let i = 0; i <= previous.length; i++) {
    for (; next < inserts.length && (inserts[next] as { at: number }).at === i; next++) out.push((inserts[next] as { entry: FileStat }).entry);
    if (i === previous.length) break;
    if (drop.has(i)) continue;
    const e = replace.get(i) ?? (previous[i] as FileStat);
    out.push(replace.has(i) || !e.fileId ? e : { ...e, fileId: 0 });
  }
  return out;
}
