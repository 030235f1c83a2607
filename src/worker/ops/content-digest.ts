/**
 * Content-based cache-key parts: the checksum of just the selected paths of an input (COPY sources,
 * bind-mount selectors). Snapshots are immutable, so their checksums are memoized per process;
 * the live context goes through the stat cache so unchanged files are not read again — and a
 * context whose caller vouches for its version (the daemon's synced copy, named by its listing
 * digest) is not even walked again: its checksums are memoized by directory and version, with the
 * entries they covered, which are reported again to the build history. A new version that differs
 * from a memoized one only at known paths (the daemon's journal delta) updates that version's
 * checksums at those paths (ContextHasher.checksumPathUpdate) instead of walking the directory.
 */
import { createHash } from 'node:crypto';
import type { ChecksumState } from '../../cache/types.js';
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

/** A versioned context's checksum, with the entries it covered and what an update needs. */
type LocalChecksum = ChecksumState;

/** Each entry a versioned checksum covered, as `onEntry` reports them. */
function reportEntries(c: LocalChecksum, onEntry: (path: string, fingerprint: string, size: number) => void): void {
  const lists = c.kind === 'wildcard' ? c.groups.map((g) => g.entries) : [c.entries];
  for (const list of lists) {
    for (let i = 0; i + 2 < list.length; i += 3) onEntry(list[i] as string, list[i + 1] as string, list[i + 2] as number);
  }
}

/** The settled checksum memoized under `key`, if any (without touching its recency). */
async function settled(key: string): Promise<LocalChecksum | undefined> {
  const p = localMemo.get(key);
  return p === undefined ? undefined : p.catch(() => undefined);
}

/**
 * Versioned-context checksums, most recently used last. Few: each holds its entry list (~100 bytes
 * an entry, so ~10 MB for a 100,000-file context), and a daemon's clients rebuild a few contexts.
 */
const localMemo = new Map<string, Promise<LocalChecksum>>();
const LOCAL_MEMO_LIMIT = 8;

function localMemoized(key: string, fn: () => Promise<LocalChecksum>): Promise<LocalChecksum> {
  let p = localMemo.get(key);
  if (p) {
    localMemo.delete(key);
  } else {
    p = fn();
    p.catch(() => localMemo.delete(key));
    const oldest = localMemo.keys().next();
    if (localMemo.size >= LOCAL_MEMO_LIMIT && !oldest.done) localMemo.delete(oldest.value);
  }
  localMemo.set(key, p);
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
    case 'local': {
      const { version, dir, changes } = t;
      for (const s of selectors) {
        let digest: string;
        if (version === undefined) {
          digest = await one(dir, s, t.excludes, true);
        } else {
          const keyOf = (v: string): string => `${dir}\0${v}\0${t.excludes.join('\n')}\0${s.path}\0${s.wildcard}\0${s.allowEmpty}\0${s.followLinks}`;
          const c = await localMemoized(keyOf(version), async () => {
            const hashOpts = {
              wildcard: s.wildcard,
              allowEmptyWildcard: s.allowEmpty,
              followLinks: s.followLinks,
              excludes: t.excludes,
              signal: opts.signal,
              statCache: deps.services.storage.statCache,
              ...(opts.location ? { location: opts.location } : {}),
            };
            // The version this one differs from only at known paths: redo just what they touch.
            const previous = changes !== undefined ? await settled(keyOf(changes.from)) : undefined;
            const updated = previous !== undefined && changes !== undefined ? await hasher.checksumPathUpdate(dir, s.path, previous, changes.paths, hashOpts) : undefined;
            return updated ?? hasher.checksumPathState(dir, s.path, hashOpts);
          });
          if (opts.onEntry) reportEntries(c, opts.onEntry);
          digest = c.digest;
        }
        h.update(`${s.path}\0${digest}\0`);
      }
      break;
    }
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
