/**
 * The compatibility suite's vocabulary: a case (a Dockerfile, its context recipe and the facts its
 * result must show), the two builders that build it, and what a build yields.
 */
import type { Flattened, ImageArchive } from '../../helpers/fs-flatten.js';

/**
 * `compare`: built by Docker 20.10 and by tsbuild, results must be equal.
 * `tsbuild-only`: Docker 20.10's built-in BuildKit cannot build it (the case says why); tsbuild's
 * result is checked against the case's expectations only.
 */
export type CaseMode = 'compare' | 'tsbuild-only';

/** A step that finishes a case's build context after its `context/` folder is copied. Paths are relative to the context. */
export type ContextStep =
  /** Sets a mode (octal string, e.g. "4755"). */
  | { readonly kind: 'chmod'; readonly path: string; readonly mode: string }
  /** Sets a numeric owner. */
  | { readonly kind: 'chown'; readonly path: string; readonly uid: number; readonly gid: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'hardlink'; readonly path: string; readonly target: string }
  /** Creates a directory (and its parents); git keeps no empty ones. */
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode?: string }
  | { readonly kind: 'write'; readonly path: string; readonly content: string; readonly mode?: string }
  /**
   * Archives the directory `from` into `path` with GNU tar (sorted, fixed mtime, numeric owners;
   * `owner` "uid:gid" overrides them), members `.` unless `members` names them.
   */
  | {
    readonly kind: 'tar';
    readonly path: string;
    readonly from: string;
    readonly compression: 'none' | 'gzip' | 'bzip2' | 'xz';
    readonly owner?: string;
    readonly members?: readonly string[];
  }
  /** gzip-compresses one file into `path` (a compressed file that is not an archive). */
  | { readonly kind: 'gzip'; readonly path: string; readonly from: string }
  | { readonly kind: 'remove'; readonly path: string };

/** A fact the flattened result of a case must show (checked on every side that builds it). */
export type Expectation =
  | { readonly kind: 'absent'; readonly path: string }
  | {
    readonly kind: 'entry';
    readonly path: string;
    readonly type?: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';
    /** Octal string, e.g. "0755" or "4755". */
    readonly mode?: string;
    readonly uid?: number;
    readonly gid?: number;
    /** Exact content of a regular file (UTF-8). */
    readonly content?: string;
    readonly linkname?: string;
    /** Every name of the file's inode, sorted. */
    readonly hardlinks?: readonly string[];
  }
  /** Some layer's whiteout or opaque marker removed this path of a lower layer. */
  | { readonly kind: 'removed'; readonly path: string };

/** A case as written in `cases/<name>/case.json`, plus its name and folder. */
export interface CaseSpec {
  /** The folder name; the image is tagged `localhost/compat-<name>:latest`. */
  readonly name: string;
  readonly dir: string;
  readonly description: string;
  readonly mode: CaseMode;
  /** For tsbuild-only cases: what Docker 20.10 does with the Dockerfile. */
  readonly why?: string;
  /**
   * tsbuild-only: a regular expression Docker 20.10's outcome must match (`failed: <error line>` or
   * `built, but: <first unmet expectation>`), so that a Docker that is broken for another reason
   * (a dead daemon, a missing base image) fails the check instead of passing it.
   */
  readonly dockerOutcome?: string;
  /** Passed as `--build-arg K=V` to both builders. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** Passed as `--add-host VALUE` to both builders, in order. */
  readonly addHosts: readonly string[];
  /** Passed as `--target STAGE` to both builders. Default: the last stage. */
  readonly target?: string;
  /** Cases whose images this one uses (FROM / COPY --from); built first, on the same side. */
  readonly needs: readonly string[];
  readonly context: readonly ContextStep[];
  readonly expect: readonly Expectation[];
}

/** A case ready to build: its spec and a prepared context directory (removed by cleanup()). */
export interface PreparedCase {
  readonly spec: CaseSpec;
  readonly dockerfile: string;
  readonly contextDir: string;
  cleanup(): Promise<void>;
}

export type Side = 'docker' | 'tsbuild';

/** What one builder produced for one case. */
export interface BuiltImage {
  readonly side: Side;
  readonly caseName: string;
  readonly archive: ImageArchive;
  readonly flat: Flattened;
  /** Wall time of the build plus export, in ms (reported, never asserted). */
  readonly buildMs: number;
}

export interface BuildOptions {
  readonly signal?: AbortSignal;
}

/** One side of the comparison. Implementations own their temp dirs and release them in close(). */
export interface Builder {
  readonly side: Side;
  /** Imports the base image; call once before build(). */
  init(opts?: BuildOptions): Promise<void>;
  /** Builds a prepared case, tagged `imageRef(name)`, and reads the result back. */
  build(c: PreparedCase, opts?: BuildOptions): Promise<BuiltImage>;
  /** Makes a built case's image available to later builds' FROM / COPY --from. */
  publish(c: PreparedCase, built: BuiltImage, opts?: BuildOptions): Promise<void>;
  close(): Promise<void>;
}

/** The tag every case's image gets on both sides. */
export function imageRef(caseName: string): string {
  return `localhost/compat-${caseName}:latest`;
}

/** The base image both sides import from the same busybox rootfs tar. */
export const BASE_IMAGE = 'localhost/busybox:latest';
