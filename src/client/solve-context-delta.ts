/**
 * The client's answer to a path-precise journal (ListFiles.journal_delta, docs/grpc.md "context
 * journal"): instead of walking the whole context, lstat only the paths the daemon's journal saw
 * events for, and send those entries (or that they are gone); the daemon merges them into the
 * listing it already has (src/control/context-listing-delta.ts). The entries are built exactly as
 * the walk builds them (fileStatOf), and a path is left out exactly when the walk would leave it
 * out — which this can decide from the path alone only while the ignore file has no `!`
 * exceptions (the walk's descent into excluded directories then depends on what is beneath them).
 * Anything else unexpected (an invalid path, a directory the walk could not read, an lstat error
 * other than "not there") answers undefined: the caller then walks as before, and the walk reports
 * the error as it always did.
 */
import { accessSync, constants, lstatSync, realpathSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { PatternMatcher } from '../util/pattern-matcher/index.js';
import { listingExcludes } from './context-excludes.js';
import type { ContextDigestCache } from './context-digest-cache.js';
import { fileDigester, fileStatOf } from './solve-context-listing.js';
import type { ListedEntry } from './solve-context-listing.js';

export interface ContextDelta {
  /** The entries at the given paths that a walk would list, numbered from 1. */
  readonly changed: readonly ListedEntry[];
  /** The given paths a walk would not list (gone, or excluded). */
  readonly removed: readonly string[];
}

function validPath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.split('/').some((s) => s === '' || s === '.' || s === '..');
}

/** lstat, or undefined when nothing is there (ENOENT, or a parent that is no longer a directory); other errors throw. */
function lstatOrNone(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** The listing's entries at `paths` (from the daemon's journal), or undefined when only a walk can tell. */
export async function listChangedPaths(contextDir: string, ignore: Buffer | undefined, paths: readonly string[], signal: AbortSignal, digests?: ContextDigestCache): Promise<ContextDelta | undefined> {
  const excludes = listingExcludes(ignore);
  const matcher = excludes.length > 0 ? new PatternMatcher(excludes) : undefined;
  if (matcher?.exclusions()) return undefined;
  // realpath(3) in one synchronous call: the first thread-pool request of the client's process
  // starts libuv's pool, and its main thread waits until every pool thread has started (5-15 ms
  // on a busy machine), right between the daemon's listing request and the build's first COPY.
  const root = realpathSync.native(contextDir);
  const digestOf = fileDigester(signal, digests);
  const changed: ListedEntry[] = [];
  const removed: string[] = [];
  try {
    // The walk reads the root first; one it could not read fails the build there.
    accessSync(root, constants.R_OK | constants.X_OK);
    for (const path of [...new Set(paths)]) {
      if (!validPath(path)) return undefined;
      const abs = join(root, path);
      const st = lstatOrNone(abs);
      // With no exceptions, every directory above a journal path was walked (it is watched), so
      // the path is listed unless it or a parent matches.
      if (st === undefined || matcher?.matchesOrParentMatches(path) === true) {
        removed.push(path);
        continue;
      }
      if (st.isDirectory()) accessSync(abs, constants.R_OK | constants.X_OK);
      const absPath = join(contextDir, path);
      changed.push({ stat: await fileStatOf(changed.length + 1, path, absPath, st, digestOf), absPath });
    }
  } catch {
    return undefined;
  }
  return { changed, removed };
}
