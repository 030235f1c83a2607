/**
 * File operations: the FileOp actions of proto/llb.proto (copy, mkdir, mkfile, rm, symlink) run on
 * plain host directories. The solver mounts snapshots and hands this module paths; nothing here
 * knows about overlay2, runc or the cache.
 *
 * The option shapes mirror the generated `tsbuild.llb.FileAction*` messages field for field (every
 * field optional and nullable, as protobufjs decodes them), so a decoded op can be passed straight
 * in. Proto3 defaults apply where a field is absent: `false`, `0`, `""`, `[]` — except for the
 * fields documented below whose "absent" means "keep" (copy `mode`, every `timestamp`).
 *
 * Lifetimes: every path handed in is borrowed for the duration of one call; nothing is retained.
 * Containment: every path inside `srcRoot`/`destRoot` is resolved as if the root were `/` (a
 * symlink to `/etc` or `../../x` resolves inside the root), so no write lands outside `destRoot`
 * and no read happens outside `srcRoot`.
 */
import type { Stats } from 'node:fs';
import type { SourceLocation } from '../../util/errors.js';
import type { CopyFlags } from '../../llb/types.js';

/** A user or group: by name (looked up in the owner root's /etc/passwd or /etc/group) or by id. */
export interface UserOpt {
  readonly byName?: NamedUserOpt | null;
  readonly byId?: number | null;
  /** Which oneof member is set (protobufjs sets it on decoded messages); informational. */
  readonly user?: 'byName' | 'byId';
}

export interface NamedUserOpt {
  readonly name?: string | null;
  /** Index of the op input whose /etc files are read; resolved by the caller into `ownerRoot`. */
  readonly input?: number | null;
}

/** `--chown`: user and optional group. A missing group means the user's primary group (by name) or gid = uid (by id). */
export interface ChownOpt {
  readonly user?: UserOpt | null;
  readonly group?: UserOpt | null;
}

/** Mirror of `tsbuild.llb.FileActionCopy`: the shared flags (src/llb/types.ts) plus what the worker resolves. */
export interface CopyAction extends CopyFlags {
  /** Source path inside `srcRoot` (relative paths are taken from `/`). May hold wildcards when `allowWildcard`. */
  readonly src?: string | null;
  /**
   * Destination inside `destRoot`. Relative paths are resolved against `FileOpContext.cwd`. A
   * trailing `/` (or `.`) means "a directory": the source goes inside it.
   */
  readonly dest?: string | null;
  readonly owner?: ChownOpt | null;
}

/** Mirror of `tsbuild.llb.FileActionMkDir`. */
export interface MkdirAction {
  readonly path?: string | null;
  /** Permission bits. Absent: 0755. */
  readonly mode?: number | null;
  readonly makeParents?: boolean | null;
  readonly owner?: ChownOpt | null;
  /** See {@link CopyAction.timestamp}; absent or -1: now. */
  readonly timestamp?: number | null;
}

/** Mirror of `tsbuild.llb.FileActionMkFile`. */
export interface MkfileAction {
  readonly path?: string | null;
  /** Permission bits. Absent: 0644. */
  readonly mode?: number | null;
  readonly data?: Uint8Array | string | null;
  readonly owner?: ChownOpt | null;
  readonly timestamp?: number | null;
}

/** Mirror of `tsbuild.llb.FileActionRm`. */
export interface RmAction {
  readonly path?: string | null;
  readonly allowNotFound?: boolean | null;
  readonly allowWildcard?: boolean | null;
}

/** Mirror of `tsbuild.llb.FileActionSymlink`. */
export interface SymlinkAction {
  /** The link target, stored as written (it is never resolved on the host). */
  readonly oldpath?: string | null;
  /** Where the link is created inside `destRoot`. */
  readonly newpath?: string | null;
  readonly owner?: ChownOpt | null;
  readonly timestamp?: number | null;
}

/** One file action, discriminated. `fromLlbFileAction` builds it from a decoded `tsbuild.llb.FileAction`. */
export type FileAction =
  | { readonly kind: 'copy'; readonly copy: CopyAction }
  | { readonly kind: 'mkdir'; readonly mkdir: MkdirAction }
  | { readonly kind: 'mkfile'; readonly mkfile: MkfileAction }
  | { readonly kind: 'rm'; readonly rm: RmAction }
  | { readonly kind: 'symlink'; readonly symlink: SymlinkAction };

/** Where an action runs. Paths are host directories the caller keeps mounted for the whole call. */
export interface FileOpContext {
  /** The writable directory the action changes (the step snapshot's merged dir). */
  readonly destRoot: string;
  /** Read-only directory copies read from (context or another stage). Required for `copy`. */
  readonly srcRoot?: string;
  /**
   * Patterns (Docker patternmatcher syntax, relative to `srcRoot`) of source entries that do not
   * exist for the copy: the build context's `.dockerignore`. Excluded entries are never copied,
   * also not as part of a copied directory or a wildcard match.
   */
  readonly srcExcludes?: readonly string[];
  /**
   * Owner of copied entries when the action names none (build-context files belong to root in the
   * image, whoever owns them on the client). Unpacked archives keep their own owners.
   */
  readonly defaultOwner?: { readonly uid: number; readonly gid: number };
  /** The WORKDIR: base of relative destination paths. Default `/`. */
  readonly cwd?: string;
  /** Root whose /etc/passwd and /etc/group resolve owner names. Default `destRoot`. */
  readonly ownerRoot?: string;
  /** Scratch space for the call (not used by copies; reserved for large unpacks). */
  readonly tmpDir?: string;
  /** Dockerfile location of the instruction; user errors carry it. */
  readonly location?: SourceLocation;
  /** Files over 128 KiB copied at once (smaller ones are copied synchronously). Default 8. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Incremental COPY: files that may be hard-linked from an earlier layer instead of copied. */
  readonly reuse?: FileReuse;
  /**
   * Regular files of `srcRoot` may be hard-linked into `destRoot` where the copy would equal the
   * source (owner, permission bits, times and xattrs kept; a link count of 1, so no layer has the
   * file yet): `srcRoot` is the daemon's context copy, whose files are never changed in place while
   * linked and are never links of each other (BuildRequest.contextLinkable), and `destRoot` is the
   * new layer's own directory. Default false.
   */
  readonly linkSources?: boolean;
  /**
   * Copies small regular files in batches off the event loop (src/worker/fileop/file-batch.ts).
   * Default: the native module's `copyFiles` when it is loaded; null: every file is copied from
   * JavaScript, as without the module or with TSBUILD_NATIVE=0.
   */
  readonly copyFiles?: CopyFiles | null;
}

/** The native module's batch copy (src/util/native-sys.ts). */
export type CopyFiles = (paths: string, meta: Float64Array) => Promise<readonly (Error | undefined)[] | null>;

/** The owner and permission bits a copy of an entry gets (the source's, or the overrides). */
export interface CopiedAttrs {
  readonly uid: number;
  readonly gid: number;
  readonly bits: number;
}

/**
 * Incremental COPY's side of the copier. `linkSource` names an existing file (in an immutable
 * earlier layer of the same data root) that is exactly what copying `src` to `dst` would produce,
 * given the owner and permission bits the copy would give it; undefined: copy as usual. `written`
 * is told about every regular file the copy writes: linked from the earlier layer, copied, the
 * source itself linked (`linkSources`), or a hardlink to a file this copy wrote (the source's own
 * hardlinks).
 */
export interface FileReuse {
  linkSource(src: string, st: Stats, dst: string, want: CopiedAttrs): string | undefined;
  /** `xattrs`: '' when the copier has just found that `src` has no extended attributes. */
  written(src: string, st: Stats, dst: string, how: WrittenHow, want: CopiedAttrs, xattrs?: ''): void;
}

/** How the copier wrote a regular file (FileReuse.written). */
export type WrittenHow = 'linked' | 'copied' | 'source' | 'hardlink';

/** What a copy did, for progress and tests. */
export interface CopyResult {
  /** Source paths (relative to srcRoot, `/`-rooted) that matched, in order. */
  readonly sources: readonly string[];
  /** Entries written (files, dirs, links, specials), archives' entries included. */
  readonly entries: number;
  /** Bytes of file content written. */
  readonly bytes: number;
  /** Sources that were unpacked as archives. */
  readonly unpacked: readonly string[];
}

/** A resolved owner. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}
