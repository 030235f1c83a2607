/**
 * The digest of a context listing (Solve with CONTEXT_TRANSFER_SYNC): everything a sync makes the
 * daemon's copy equal to — paths, kinds, modes, owners, times, sizes, link targets, content digests,
 * device numbers — in listing order. File ids are left out: they only number the fetches. The
 * client computes it over the listing it would send, the daemon over the listing it received; the
 * same function on both sides, so that a client whose context is unchanged since the daemon's last
 * sync of it can answer the listing request with this one digest (ContextEntries.unchanged) instead
 * of every entry. A content digest is only as good as the client's digest cache, which re-reads
 * any file changed within its racy window (context-digest-cache.ts).
 */
import type * as Crypto from 'node:crypto';
import { lazyBuiltin } from '../util/lazy-builtin.js';
import type { tsbuild } from './gen/control.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

/** Entries whose lines are joined before one hash update (fewer native calls). */
const LINES_PER_UPDATE = 256;

/** Required on first use: a no-op build through the daemon (no listing asked for) needs no crypto. */
const nodeCrypto = lazyBuiltin<typeof Crypto>('node:crypto');

/** Feeds a listing, in order, batch by batch; `digest()` once at the end. */
export class ListingDigest {
  readonly #h: Crypto.Hash = nodeCrypto().createHash('sha256');
  #pending: string[] = [];

  add(entries: readonly FileStat[]): void {
    for (const e of entries) {
      this.#pending.push(`${e.path ?? ''}\0${e.mode ?? 0}\0${e.uid ?? 0}\0${e.gid ?? 0}\0${String(e.mtimeNs ?? 0)}\0${String(e.size ?? 0)}\0${e.linkTarget ?? ''}\0${e.contentDigest ?? ''}\0${e.devMajor ?? 0}\0${e.devMinor ?? 0}\n`);
      if (this.#pending.length >= LINES_PER_UPDATE) this.#flush();
    }
  }

  /** `listing:sha256:<hex>`. */
  digest(): string {
    this.#flush();
    return `listing:sha256:${this.#h.digest('hex')}`;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#h.update(this.#pending.join(''));
    this.#pending = [];
  }
}

/** The digest of a whole listing. */
export function listingDigest(entries: readonly FileStat[]): string {
  const d = new ListingDigest();
  d.add(entries);
  return d.digest();
}
