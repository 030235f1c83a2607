/**
 * Content-based cache-key parts: the checksum of just the selected paths of an input (COPY sources,
 * bind-mount selectors). Snapshots are immutable, so their checksums are memoized per process;
 * the live context goes through the stat cache so unchanged files are not read again.
 */
import { createHash } from 'node:crypto';
import type { Result } from '../../solver/types.js';
import type { SourceLocation } from '../../util/errors.js';
import { targetOf } from './worker-result.js';
import type { OpDeps } from './context.js';

export interface SelectorSpec {
  /** Path inside the input ("/" = everything). */
  readonly path: string;
  readonly wildcard: boolean;
  readonly allowEmpty: boolean;
  readonly followLinks: boolean;
}

const memo = new Map<string, Promise<string>>();
const MEMO_LIMIT = 10_000;

function memoized(key: string, fn: () => Promise<string>): Promise<string> {
  let p = memo.get(key);
  if (!p) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    p = fn();
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

/** Checksum of the selected paths of `input`, combined in order into one string. */
export async function selectedContentDigest(
  deps: OpDeps,
  input: Result,
  selectors: readonly SelectorSpec[],
  opts: {
    readonly signal: AbortSignal;
    readonly location?: SourceLocation;
    /** Each context entry the checksum covers (build history); snapshots are not reported. */
    readonly onEntry?: (path: string, fingerprint: string, size: number) => void;
  },
): Promise<string> {
  const t = targetOf(input);
  const h = createHash('sha256');
  const hasher = deps.services.hasher;
  const one = async (root: string, sel: SelectorSpec, excludes: readonly string[], useStatCache: boolean): Promise<string> =>
    hasher.checksumPath(root, sel.path, {
      wildcard: sel.wildcard,
      allowEmptyWildcard: sel.allowEmpty,
      followLinks: sel.followLinks,
      excludes,
      signal: opts.signal,
      ...(useStatCache ? { statCache: deps.services.storage.statCache } : {}),
      ...(useStatCache && opts.onEntry ? { onEntry: opts.onEntry } : {}),
      ...(opts.location ? { location: opts.location } : {}),
    });
  switch (t.kind) {
    case 'scratch':
      h.update('scratch');
      for (const s of selectors) h.update(`\0${s.path}`);
      break;
    case 'local':
      for (const s of selectors) h.update(`${s.path}\0${await one(t.dir, s, t.excludes, true)}\0`);
      break;
    case 'snapshot': {
      const id = t.id;
      const parts: string[] = [];
      for (const s of selectors) {
        const key = `${id}\0${s.path}\0${s.wildcard}\0${s.allowEmpty}\0${s.followLinks}`;
        parts.push(await memoized(key, () => deps.services.snapshotter.withView(id, (root) => one(root, s, [], false), { signal: opts.signal })));
      }
      for (const [i, p] of parts.entries()) h.update(`${selectors[i]?.path ?? ''}\0${p}\0`);
      break;
    }
  }
  return `sha256:${h.digest('hex')}`;
}
