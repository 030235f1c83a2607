/**
 * A FileOp whose one action makes a directory its base already has (WORKDIR of an existing
 * directory, the common case) changes nothing: `mkdir -p` and `mkdir` leave an existing directory
 * alone (mode, owner and time included, mkdir.ts), so the step's layer is empty. That is known from
 * the base's layers without mounting them: the path is looked up through the chain's `diff/` dirs
 * nearest first, the way overlayfs merges them (whiteouts, opaque directories: lower-lookup.ts).
 * The step then commits an empty snapshot without the overlay mount and unmount (and the kernel's
 * work dir set-up) a mounted mkdir costs: ~2–4 ms of every such step, more on a loaded machine.
 *
 * Only when it is provable: a symlink anywhere on the path, a name that is not a directory, a
 * whiteout, an owner given by name (its lookup can fail, and reads the mounted /etc/passwd) or
 * any other action in the op → false, and the op runs mounted as before.
 */
import { posix } from 'node:path';
import type { PbFileAction } from '../../llb/types.js';
import { cleanRooted, splitComponents } from '../../util/root-path.js';
import { LowerLookup } from '../diff/lower-lookup.js';
import { toBytePath } from '../snapshot/byte-path.js';
import type { Snapshotter } from '../types.js';

type NamedUser = { readonly byName?: unknown } | null | undefined;

function byName(u: NamedUser): boolean {
  return u?.byName !== undefined && u.byName !== null;
}

/** The in-root path of a chain that is one mkdir without an owner looked up by name; else undefined. */
export function soleMkdirPath(chain: readonly PbFileAction[]): string | undefined {
  if (chain.length !== 1) return undefined;
  const m = chain[0]?.mkdir;
  if (!m || chain[0]?.copy || chain[0]?.mkfile || chain[0]?.rm || chain[0]?.symlink) return undefined;
  if (byName(m.owner?.user) || byName(m.owner?.group)) return undefined;
  const raw = m.path ?? '';
  // As mkdirAction: relative to `/` (a file op has no cwd of its own), `..` resolved lexically.
  return cleanRooted(raw.startsWith('/') ? raw : posix.join('/', raw));
}

/**
 * Whether `path` is a directory in the merged view of snapshot `id`'s chain, reached through
 * directories only (no symlink on the way, none at the end). False whenever that is not certain.
 */
export async function isDirectoryInChain(snapshots: Pick<Snapshotter, 'chain' | 'diffDir'>, id: string, path: string): Promise<boolean> {
  const dirs = (await snapshots.chain(id)).map((l) => snapshots.diffDir(l));
  let at = LowerLookup.root(dirs);
  if (at === LowerLookup.none) return false;
  for (const name of splitComponents(path)) {
    at = at.child(toBytePath(name));
    if (at.dir === undefined) return false;
  }
  return true;
}
