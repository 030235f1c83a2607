/**
 * LLB: the build graph the frontend produces and the solver runs. These are the interfaces other
 * layers program against; the wire format is `proto/llb.proto` (generated code in `gen/llb.js`).
 *
 * Ownership and lifetimes: everything here is immutable plain data. A `Definition` (what the
 * builder's `marshal()` returns) owns its encoded bytes; `loadDefinition()` decodes bytes into a
 * `LoadedDefinition` whose vertices the solver may keep for as long as it likes — nothing refers
 * back to the builder `State` objects that produced them.
 */
import type { tsbuild } from './gen/llb.js';

/** "sha256:<64 hex>" — a vertex digest: sha256 of the op's canonical protobuf encoding. */
export type Digest = string;

type Scalar = string | number | boolean | bigint | Uint8Array;
type StrictElem<E> = NonNullable<E> extends Scalar ? NonNullable<E> : Strict<NonNullable<E>>;
type StrictField<F> = F extends Scalar ? F : F extends readonly (infer E)[] ? readonly StrictElem<E>[] : F extends object ? Strict<F> | null : F;

/**
 * A decoded protobuf message as it really is after `decode()`: scalar and repeated fields always
 * hold a value (proto3 defaults), nested messages are `null` when absent. Derived from the generated
 * `$Properties` types, whose every field is optional.
 */
export type Strict<T> = {
  readonly [K in keyof T as K extends '$unknowns' ? never : K]-?: StrictField<NonNullable<T[K]>>;
};

/** Decoded messages under short names (see `Strict`). Enum values: `tsbuild.llb.MountType` etc. */
export type PbOp = Strict<tsbuild.llb.Op.$Properties>;
export type PbExecOp = Strict<tsbuild.llb.ExecOp.$Properties>;
export type PbMeta = Strict<tsbuild.llb.Meta.$Properties>;
export type PbSourceOp = Strict<tsbuild.llb.SourceOp.$Properties>;
export type PbFileOp = Strict<tsbuild.llb.FileOp.$Properties>;
export type PbMergeOp = Strict<tsbuild.llb.MergeOp.$Properties>;
export type PbMount = Strict<tsbuild.llb.Mount.$Properties>;
export type PbFileAction = Strict<tsbuild.llb.FileAction.$Properties>;
export type PbFileActionCopy = Strict<tsbuild.llb.FileActionCopy.$Properties>;
export type PbFileActionMkDir = Strict<tsbuild.llb.FileActionMkDir.$Properties>;
export type PbFileActionMkFile = Strict<tsbuild.llb.FileActionMkFile.$Properties>;
export type PbFileActionRm = Strict<tsbuild.llb.FileActionRm.$Properties>;
export type PbFileActionSymlink = Strict<tsbuild.llb.FileActionSymlink.$Properties>;
export type PbChownOpt = Strict<tsbuild.llb.ChownOpt.$Properties>;
export type PbPlatform = Strict<tsbuild.llb.Platform.$Properties>;

/** Output `index` of the vertex `digest`. */
export interface VertexRef {
  readonly digest: Digest;
  readonly index: number;
}

/**
 * The body of a vertex as a discriminated union, so consumers can `switch (op.kind)` exhaustively
 * (with `assertNever`). `pb` is the whole decoded Op message (inputs, platform) for completeness.
 */
export type LLBOp =
  | { readonly kind: 'source'; readonly source: PbSourceOp; readonly pb: PbOp }
  | { readonly kind: 'exec'; readonly exec: PbExecOp; readonly pb: PbOp }
  | { readonly kind: 'file'; readonly file: PbFileOp; readonly pb: PbOp }
  | { readonly kind: 'merge'; readonly merge: PbMergeOp; readonly pb: PbOp };

export type LLBOpKind = LLBOp['kind'];

/** A location in one of the definition's source files (the Dockerfile). 1-based, inclusive. */
export interface OpLocation {
  /** Index into `LoadedDefinition.sources`. */
  readonly sourceIndex: number;
  readonly startLine: number;
  readonly endLine: number;
  /** Column of the instruction keyword; 0 when unknown. */
  readonly startColumn: number;
}

/**
 * Per-vertex metadata. Never part of a digest: two vertices that differ only in metadata are the
 * same vertex (the first one's metadata wins).
 */
export interface OpMetadataInfo {
  /** Re-run the op even on a cache hit and overwrite the record (--no-cache, --no-cache-filter). */
  readonly ignoreCache: boolean;
  /** Progress name, BuildKit style: `[stage-1 2/5] RUN make`, `[internal] load build context`. */
  readonly description: string;
  /** Stage name, or the stage index as a string for unnamed stages; "" for internal vertices. */
  readonly stage: string;
  /** 1-based step number in its stage and the stage's step count; 0 when not a stage step. */
  readonly step: number;
  readonly steps: number;
  readonly locations: readonly OpLocation[];
}

/** One decoded vertex of a loaded definition. */
export interface LLBVertex {
  readonly digest: Digest;
  readonly op: LLBOp;
  /** The op's inputs in order; every digest is a key of `LoadedDefinition.vertices`. */
  readonly inputs: readonly VertexRef[];
  /** Number of outputs the op produces (exec: mounts with output >= 0; file: actions with output >= 0). */
  readonly outputs: number;
  readonly metadata: OpMetadataInfo;
  /** The op's canonical encoding (sha256 of it is `digest`). */
  readonly bytes: Uint8Array;
}

/** A source file referenced by op locations. */
export interface DefinitionSource {
  readonly filename: string;
  readonly data: Uint8Array;
}

/** A decoded definition: the typed in-memory graph the solver consumes. */
export interface LoadedDefinition {
  /** Every vertex by digest, in dependency order (inputs before the vertices that use them). */
  readonly vertices: ReadonlyMap<Digest, LLBVertex>;
  /** The result; undefined when the result is the empty filesystem (scratch). */
  readonly root: VertexRef | undefined;
  readonly sources: readonly DefinitionSource[];
}

/**
 * A marshalled definition (what `State.marshal()` returns). `bytes` is the encoded `Definition`
 * message — the thing that crosses process boundaries; `loaded` is the same graph already decoded.
 */
export interface Definition {
  readonly bytes: Uint8Array;
  readonly loaded: LoadedDefinition;
}

/** Metadata a builder call may attach to the op it creates (see OpMetadataInfo). */
export interface OpConstraints {
  readonly description?: string;
  readonly stage?: string;
  readonly step?: number;
  readonly steps?: number;
  readonly locations?: readonly OpLocation[];
  readonly ignoreCache?: boolean;
}

/** A platform as LLB carries it (OCI names: os "linux", architecture "amd64", variant "v7"). */
export interface LLBPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/**
 * The flags of a copy file action (`FileActionCopy` in proto/llb.proto without src, dest and
 * owner): one shape for the builder that takes them (src/llb/file-actions.ts, absent = proto3
 * default) and the file-op worker that receives them decoded (src/worker/fileop: protobufjs gives
 * null for absent fields).
 */
export interface CopyFlags {
  /** Octal permission bits for every copied entry; `-1` or absent keeps the source modes. */
  readonly mode?: number | null | undefined;
  /** Symbolic or octal chmod string (`u=rwX,go=rX`, `+x`, `0755`); wins over `mode` when non-empty. */
  readonly modeStr?: string | null | undefined;
  /** Follow the source path itself when it is a symlink (within `srcRoot`). Entries below are never followed. */
  readonly followSymlink?: boolean | null | undefined;
  /** A source directory's contents are copied, not the directory itself (Dockerfile COPY sets this). */
  readonly dirCopyContents?: boolean | null | undefined;
  /** ADD: unpack local tar archives (plain, gzip, bzip2, xz, zstd; detected by content). */
  readonly attemptUnpackDockerCompatibility?: boolean | null | undefined;
  /** Create missing parents of the destination (0755, owned by `owner`). Without it a missing parent is an error. */
  readonly createDestPath?: boolean | null | undefined;
  /** `src` may hold `*`, `?`, `[...]` (Go filepath.Match syntax; `\` escapes). */
  readonly allowWildcard?: boolean | null | undefined;
  /** A wildcard that matches nothing copies nothing instead of failing. */
  readonly allowEmptyWildcard?: boolean | null | undefined;
  /**
   * Times for every copied entry. Unix seconds; values of 1e15 or more are read as nanoseconds
   * (BuildKit's unit). `-1` or absent keeps the source times.
   */
  readonly timestamp?: number | null | undefined;
  /** Only entries matching one of these (Docker patternmatcher syntax, relative to the copied directory) are copied. */
  readonly includePatterns?: readonly string[] | null | undefined;
  /** Entries matching these (Docker patternmatcher syntax, `!` re-includes) are skipped (`--exclude`). */
  readonly excludePatterns?: readonly string[] | null | undefined;
  /** Replace destination entries of a different type (a directory over a file or symlink, a file over a directory). */
  readonly alwaysReplaceExistingDestPaths?: boolean | null | undefined;
  /**
   * `COPY --parents`. As the frontend emits it (BuildKit's way): `src` is the pivot directory and
   * `includePatterns` select the paths below it, whose parents are kept. Without include patterns,
   * `src` itself may hold the pivot (`a/./b/c` keeps `b/c`; no pivot keeps the whole path).
   */
  readonly parents?: boolean | null | undefined;
  /** `ADD --unpack=` was given, and its value. Informational: `attemptUnpackDockerCompatibility` decides. */
  readonly unpackSet?: boolean | null | undefined;
  readonly unpack?: boolean | null | undefined;
  /** Paths (in-root, or relative to `src`) that must exist (`COPY --parents` of wildcard-free sources). */
  readonly requiredPaths?: readonly string[] | null | undefined;
}
