/**
 * Interfaces of context hashing (src/cache/context-hash.ts) and the stat cache it reads through:
 * content checksums of a build context's selected paths, remembered per (root, path) while a file
 * is unchanged. Re-exported by types.ts.
 */
import type { SourceLocation } from '../util/errors.js';
import type { SignalOptions } from './signal-options.js';

// ---------------------------------------------------------------------------------------------
// Stat cache (context hashing)

/** What the stat cache remembers per (root, path). */
export interface StatCacheEntry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  readonly mode: number;
  /** Content digest of the file ("xxh64:<16 hex>"). */
  readonly digest: string;
}

/**
 * Remembers file content digests keyed by (root, path) so that unchanged files (same size, mtime,
 * ctime, inode) are not read again.
 */
export interface StatCache {
  get(root: string, path: string): StatCacheEntry | undefined;
  /** Loads every entry of a root at once, for hashing many of its files (optional). */
  preload?(root: string): void;
  /** Stores entries in short transactions. */
  putMany(root: string, entries: readonly StatCacheEntry[]): void;
  /** Forgets every entry of a root (or all roots). Returns the number removed. */
  clear(root?: string): number;
}

// ---------------------------------------------------------------------------------------------
// Context hashing

/** A digest of file data, from context hashing: "xxh64:<16 hex>". */
export type ContentChecksum = string;

export interface FileReadOptions extends SignalOptions {
  /** The file's size from its stat, for sizing buffers (the file may have changed since). */
  readonly sizeHint?: number;
}

/** Reads a file's content as chunks; injectable so tests can count reads. */
export type FileReader = (absPath: string, opts: FileReadOptions) => AsyncIterable<Uint8Array>;

export interface ChecksumOptions extends SignalOptions {
  /** .dockerignore patterns: excluded paths are not part of any checksum. */
  readonly excludes?: readonly string[];
  /** Remembers file digests across calls. Default: none (every file is read). */
  readonly statCache?: StatCache;
  /**
   * Files whose mtime or ctime lies within this many ms before they were read are hashed but not
   * stored in the stat cache: a write in the same timestamp tick could go unnoticed. Default 2000.
   */
  readonly racyWindowMs?: number;
  /** Injected file reader (default: one read for files up to 1 MiB, else streaming). */
  readonly readFile?: FileReader;
  /** Where the selector came from, for the error when it matches nothing. */
  readonly location?: SourceLocation;
  /**
   * Called once per entry a checksum covers: its root-relative path, a fingerprint of just that
   * entry (type, mode, owner, content digest or link target; never timestamps) and its size in
   * bytes (0 for non-files). The build history keeps these to name the files that made a step miss.
   */
  readonly onEntry?: (path: string, fingerprint: string, size: number) => void;
}

export interface ChecksumPathOptions extends ChecksumOptions {
  /** Treat the selector as a wildcard pattern (COPY sources). Default: true when it has * ? or [. */
  readonly wildcard?: boolean;
  /** Follow a symlink at the selected path itself (inside the root), as COPY does. Default true. */
  readonly followLinks?: boolean;
  /** A selector that matches nothing yields the digest of "nothing" instead of an error. */
  readonly allowEmptyWildcard?: boolean;
}

/** One top-level match of a wildcard selector: its checksum and the entries it covered. */
export interface ChecksumGroup {
  /** Root-relative path of the match. */
  readonly match: string;
  readonly digest: ContentChecksum;
  /** (path, fingerprint, size) per entry covered, flat, as `onEntry` reports them. */
  readonly entries: readonly (string | number)[];
  /** A symlink followed to wherever it points: its checksum may change with other paths. */
  readonly followed: boolean;
}

/**
 * A selector's checksum with what ContextHasher.checksumPathUpdate needs to redo only the part a
 * set of changed paths touches: every wildcard match on its own, or the literal path it resolved to.
 */
export type ChecksumState =
  | { readonly kind: 'wildcard'; readonly digest: ContentChecksum; readonly groups: readonly ChecksumGroup[] }
  | {
    readonly kind: 'literal';
    readonly digest: ContentChecksum;
    /** Root-relative path the selector resolved to ('' = the whole context). */
    readonly resolved: string;
    /** The selector named `resolved` itself (no symlink on the way). */
    readonly direct: boolean;
    /** (path, fingerprint, size) per entry covered, flat. */
    readonly entries: readonly (string | number)[];
  };

export interface HashContextOptions extends ChecksumOptions {
  /** The context directory. */
  readonly root: string;
  /** Selected paths/patterns (the COPY sources, i.e. followpaths). Default: the whole context. */
  readonly include?: readonly string[];
}

export interface ContextHashResult {
  readonly digest: ContentChecksum;
  /** Entries (files, dirs, links) covered. */
  readonly entries: number;
  readonly bytes: number;
  /** Files actually read (stat-cache misses). */
  readonly filesRead: number;
}
