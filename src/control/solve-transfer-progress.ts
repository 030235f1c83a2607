/**
 * The progress line of a context transfer: a vertex `[internal] transfer build context` whose log
 * says what travelled — `transferred N bytes (M files) of T bytes (F files)`, then for a synced
 * context `, listing: E entries` or `, listing unchanged` (the client sent only the listing's
 * digest), `, listing unchanged (journal)` (the daemon's context journal saw no change, and the
 * client did not even walk), `, listing: N changed paths (journal)` (the client listed only the paths
 * the journal named) — so users (and tests) see that an unchanged context sends nothing.
 * The vertex is `cached` when nothing was sent.
 */
import { createHash } from 'node:crypto';
import type { tsbuild } from '../client/gen/control.js';
import { progressToWire } from '../client/solve-wire-progress.js';
import type { SyncReport } from './solve-context-sync.js';

type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;

export const TRANSFER_VERTEX_NAME = '[internal] transfer build context';

export function transferLine(r: SyncReport): string {
  const l = r.listing;
  const listing = l === undefined ? ''
    : l === 'unchanged' ? ', listing unchanged'
    : l === 'journal' ? ', listing unchanged (journal)'
    : typeof l === 'number' ? `, listing: ${l} entries`
    : `, listing: ${l.changed} changed path${l.changed === 1 ? '' : 's'} (journal)`;
  return `transferred ${r.bytes} bytes (${r.files} files) of ${r.totalBytes} bytes (${r.totalFiles} files)${listing}`;
}

export function reportTransfer(post: (m: SolveResponse) => void, ref: string, started: number, r: SyncReport): void {
  const digest = `sha256:${createHash('sha256').update(`solve-transfer\0${ref}`).digest('hex')}`;
  const now = Date.now();
  const name = TRANSFER_VERTEX_NAME;
  post({ progress: progressToWire({ type: 'vertex', digest, name, state: 'started', timestamp: started, started }) });
  post({ progress: progressToWire({ type: 'log', vertex: digest, stream: 1, data: `${transferLine(r)}\n`, timestamp: now }) });
  post({ progress: progressToWire({ type: 'vertex', digest, name, state: r.bytes === 0 ? 'cached' : 'completed', timestamp: now, started, completed: now }) });
}
