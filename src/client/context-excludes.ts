/**
 * The exclude patterns a context listing applies: the ignore file's patterns, or none when the
 * matcher rejects one of them (the engine then reports the bad pattern with its file and line, and
 * the walk sends everything). Shared by the client's listing walk and the daemon's context journal,
 * which must watch exactly the directories that walk reads.
 */
import { PatternMatcher, PatternSyntaxError, readIgnoreFile } from '../util/pattern-matcher/index.js';

export function listingExcludes(ignore: Uint8Array | undefined): string[] {
  const excludes = readIgnoreFile(ignore === undefined ? undefined : Buffer.from(ignore.buffer, ignore.byteOffset, ignore.byteLength).toString('utf8'));
  try {
    for (const p of new PatternMatcher(excludes).patterns) p.check();
  } catch (e) {
    if (!(e instanceof PatternSyntaxError)) throw e;
    return [];
  }
  return excludes;
}
