/**
 * Remote sources: `ADD https://…` (http) and `ADD git@…`/`git://…` (git). Each fills a directory the
 * caller provides (the new snapshot's directory) and returns what the solver keys the result on.
 * Scratch files live under the caller's tmp dir (ROOT/tmp) and are removed before the call returns,
 * also on failure. Every call takes an AbortSignal; aborting kills the transfer or the git process.
 *
 * Image and local-context sources live beside these (another engineer's work) and share this file.
 */
import type { SourceLocation } from '../../util/errors.js';

/** Validators a previous download returned, for a conditional request. */
export interface HttpCacheHints {
  readonly etag?: string | undefined;
  readonly lastModified?: string | undefined;
  /** Content digest of that download; returned as is when the server answers 304. */
  readonly digest: string;
}

export interface HttpSourceOptions {
  readonly url: string;
  /** Existing directory the file is written into. */
  readonly destDir: string;
  /** Scratch directory for the download (ROOT/tmp); created when missing. */
  readonly tmpDir: string;
  /**
   * Name of the file in destDir. Default: the Content-Disposition filename, else the last
   * segment of the URL path, else `index` (BuildKit's rules).
   */
  readonly filename?: string | undefined;
  /** `sha256:<hex>` (or sha384/sha512) the content must match (`ADD --checksum`). */
  readonly checksum?: string | undefined;
  /** Permission bits of the file. Default 0600, as Docker. */
  readonly perm?: number | undefined;
  /** Owner of the file. Default 0:0. */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** When given, the request is conditional (If-None-Match / If-Modified-Since). */
  readonly previous?: HttpCacheHints | undefined;
  /** Extra request headers (e.g. Authorization from a secret). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Called as bytes arrive (for a progress status row). */
  readonly onProgress?: ((p: { readonly current: number; readonly total: number | undefined }) => void) | undefined;
  readonly location?: SourceLocation | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type HttpSourceResult =
  | {
      readonly kind: 'downloaded';
      /** `sha256:<hex>` of the content: the cache key material (with filename, perm, uid, gid). */
      readonly digest: string;
      readonly size: number;
      readonly filename: string;
      /** Host path of the written file. */
      readonly path: string;
      readonly etag: string | undefined;
      readonly lastModified: string | undefined;
    }
  | {
      /** The server answered 304 to the conditional request: nothing was written. */
      readonly kind: 'not-modified';
      readonly digest: string;
    };

export interface GitSourceOptions {
  /** Repository URL: https://, ssh://, git://, git@host:path, file:// or a local path. */
  readonly remote: string;
  /** Branch, tag, full ref name or commit (full or abbreviated). Default: the remote's HEAD. */
  readonly ref?: string | undefined;
  /** Only this directory of the checkout ends up in destDir. */
  readonly subdir?: string | undefined;
  /** Keep `.git` (ignored with subdir, as BuildKit). */
  readonly keepGitDir?: boolean | undefined;
  /** `ADD --checksum` for git: the commit (or a prefix of it) the ref must resolve to. */
  readonly checksum?: string | undefined;
  /** Existing, empty directory to fill. */
  readonly destDir: string;
  /** Scratch directory (ROOT/tmp); created when missing. */
  readonly tmpDir: string;
  readonly location?: SourceLocation | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface GitSourceResult {
  /** The checked-out commit (40 hex): the cache key material (with subdir and keepGitDir). */
  readonly commit: string;
  /** The full ref name the commit came from (`refs/tags/v1`), when it came from one. */
  readonly refName: string | undefined;
}

/** A git URL split into Docker's parts: `remote#ref:subdir` or `remote?ref=…&subdir=…`. */
export interface GitUrl {
  readonly remote: string;
  readonly ref: string | undefined;
  readonly subdir: string | undefined;
  readonly keepGitDir: boolean | undefined;
}
