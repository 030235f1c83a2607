/**
 * Bytes the whole snapshot directory takes on disk (du(1) -x, allocated), for `tsbuild du`'s
 * data-root totals: every snapshot with its bookkeeping files, links and the init layer. A
 * committed snapshot's diff never changes, so the sizes its cache record or ref already holds are
 * used instead of walking it again.
 */
import { treeUsage } from '../../util/tree-usage.js';
import { isSnapshotId } from './ids.js';
import type { Overlay2Layout } from './layout.js';

export function footprint(layout: Overlay2Layout, knownDiffBytes: ReadonlyMap<string, number>, signal: AbortSignal | undefined): Promise<{ readonly bytes: number }> {
  // treeUsage hands out byte-string (latin1) paths.
  const prefix = `${Buffer.from(layout.dir, 'utf8').toString('latin1')}/`;
  const substitute = (p: string): number | undefined => {
    if (!p.startsWith(prefix) || !p.endsWith('/diff')) return undefined;
    const id = p.slice(prefix.length, -'/diff'.length);
    return isSnapshotId(id) ? knownDiffBytes.get(id) : undefined;
  };
  return treeUsage(layout.dir, { substitute, ...(signal ? { signal } : {}) });
}
