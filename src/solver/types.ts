/**
 * The solver's contracts. The solver is generic, as BuildKit's is: it runs a DAG of vertices whose
 * ops it knows only through {@link Op}, keys their results for the persistent cache through
 * {@link CacheMap}, and moves results around as opaque, refcounted {@link Result}s. The worker
 * implements Op, Result and ResultLoader for LLB ops on overlay2 snapshots; src/cache implements
 * CacheRecordStore (cache-types.ts). Nothing here knows Dockerfiles, snapshots or runc.
 */
import type { SourceLocation } from '../util/errors.js';
import type { ProgressWriter, VertexProgress } from '../progress/types.js';
import type { CacheRecordStore, RecordType } from './cache-types.js';
import type { KeyPart } from './cache-key.js';

/**
 * A node of the build graph: one op and the edges it reads from. Vertices are immutable and may be
 * shared by several builds. Two vertices with the same digest are interchangeable: the solver runs
 * only one of them at a time in a process and hands its result to every build that asked.
 */
export interface Vertex {
  /** sha256 of the op's canonical encoding, inputs' digests included ("sha256:<hex>"). Dedupe key. */
  readonly digest: string;
  /** Display name for progress, e.g. `[stage-0 2/5] RUN make`. */
  readonly name: string;
  /** The outputs of other vertices this one reads, in the op's input order. */
  readonly inputs: readonly Edge[];
  readonly op: Op;
  readonly options: VertexOptions;
}

/** Per-vertex metadata; never part of the digest. */
export interface VertexOptions {
  /** Re-execute even when a cache record exists, then overwrite it (`--no-cache`, `--no-cache-filter`). */
  readonly ignoreCache?: boolean;
  /** Longer human description (defaults to the name). */
  readonly description?: string;
  /** Stage name or index the vertex belongs to. */
  readonly stage?: string;
  /** 1-based instruction number within its stage, and the stage's instruction count. */
  readonly step?: number;
  readonly steps?: number;
  /** Where the instruction is written (Dockerfile lines); errors point there. */
  readonly locations?: readonly SourceLocation[];
}

/** Output `index` of `vertex`. */
export interface Edge {
  readonly vertex: Vertex;
  readonly index: number;
}

/**
 * A handle on a build result (for tsbuild's worker: a committed snapshot). Refcounted: `clone()`
 * returns a new handle on the same result; every handle is released exactly once. Whoever receives a
 * Result owns that handle: the solver owns what `Op.exec` and `ResultLoader.load` return; the caller
 * of `Solver.solve` owns the final result; an op only borrows its inputs for the duration of exec.
 */
export interface Result {
  /** Opaque, stable id of the underlying result; what cache records store. "" for no filesystem. */
  readonly id: string;
  /** Bytes of the result's own data (its layer), when known; stored in the cache record. */
  readonly size?: number | undefined;
  /** A new handle on the same result. Must not be called after this handle's release(). */
  clone(): Result;
  /** Drops this handle. The underlying result may be freed when the last handle goes. */
  release(): Promise<void>;
}

/** What an op's methods get: the vertex, its progress, and the signal to stop on. */
export interface OpContext {
  /** The vertex being solved (for a deduped vertex, the first build's instance). */
  readonly vertex: Vertex;
  /**
   * Aborted when no build wants this work any more (all interested builds were cancelled or
   * failed). Ops must stop promptly (the worker kills runc) and release what they created; the
   * solver waits for them to settle before a cancelled build returns.
   */
  readonly signal: AbortSignal;
  /** Logs, status rows and warnings of this vertex; reaches every build attached to it. */
  readonly progress: VertexProgress;
  /**
   * Exec only: an earlier result of the same step (same parent, same definition; only the content
   * its key read differed), when the build found one (SolveOptions.previousResult). Borrowed for
   * the call, and held so that nothing removes it meanwhile. An op may build on it (incremental
   * COPY) but must produce exactly what it would have produced without it.
   */
  readonly previous?: Result;
}

/**
 * How a vertex's persistent cache key is made. The key is sha256 over `digest` and, per input, the
 * input's own cache key — or, when the dep has `computeDigest`, the content checksum that function
 * returns for the input's result (so `COPY a /x` from the context is keyed by the content of `a`
 * only, and touching `b` does not miss it).
 */
export interface CacheMap {
  /**
   * The op's own definition with its inputs left out ("sha256:…" or any stable string). Sources
   * whose content can change under the same definition (the local context) must make this unique
   * per session, as BuildKit does, and let their consumers key by content through computeDigest.
   */
  readonly digest: string;
  /** One entry per input (same order); a missing entry means "key by the input's cache key". */
  readonly deps: readonly CacheMapDep[];
  /** Record type for the records of this vertex (default `regular`). */
  readonly recordType?: RecordType;
  /**
   * False for results that must never be stored as cache records (the live build context, whose
   * key is unique per session anyway). Default true.
   */
  readonly persist?: boolean;
}

export interface CacheMapDep {
  /** The paths of the input the op reads (informational; shown in miss explanations). */
  readonly selector?: string;
  /**
   * Content-based key of the selected paths of the input's result. When set, the solver obtains the
   * input's result (loading or executing it), calls this, and uses the returned string in place of
   * the input's cache key. The result is borrowed for the call.
   */
  readonly computeDigest?: (result: Result, ctx: OpContext) => Promise<string>;
}

/** One op of the graph, as the worker implements it. */
export interface Op {
  /**
   * The op's cache map. `index` is BuildKit's round number; tsbuild asks for round 0 only (every op
   * computes its final key at once; image sources resolve their config digest here).
   */
  cacheMap(ctx: OpContext, index: number): Promise<CacheMap>;
  /**
   * Runs the op. `inputs` are borrowed (one per Vertex.inputs entry, same order) and stay valid until
   * the returned promise settles; the returned results (one per output) become the solver's. On
   * failure or abort the op releases anything it created and rejects.
   */
  exec(ctx: OpContext, inputs: readonly Result[]): Promise<Result[]>;
}

/** Turns the result id of a cache record back into a usable Result (implemented by the worker). */
export interface ResultLoader {
  /** A new handle owned by the caller, or undefined when the result no longer exists (pruned). */
  load(resultId: string, opts: LoadOptions): Promise<Result | undefined>;
}

export interface LoadOptions {
  readonly signal: AbortSignal;
  readonly recordType: RecordType;
}

/** Where and how many steps run at once. One instance may serve several Solvers. */
export interface Scheduler {
  /**
   * Runs `fn` when a slot is free; rejects without running it when `signal` aborts first. Higher
   * `priority` runs first (default 0). Callers wait for inputs *before* calling run, so a waiting
   * vertex never holds a slot.
   */
  run<T>(fn: (signal: AbortSignal) => Promise<T>, opts: ScheduleOptions): Promise<T>;
}

export interface ScheduleOptions {
  readonly signal: AbortSignal;
  readonly priority?: number;
}

export interface SolverOptions {
  /** Persistent cache records. */
  readonly cache: CacheRecordStore;
  /** Loads the results of cache hits. */
  readonly loader: ResultLoader;
  /** Default: a p-queue scheduler with `maxParallelism` slots. */
  readonly scheduler?: Scheduler;
  /** Steps running at once when no scheduler is given. Default: the number of cores. */
  readonly maxParallelism?: number;
  /** Clock for timestamps (ms since epoch). Default Date.now. */
  readonly now?: () => number;
}

export interface SolveOptions {
  /** The output to build: usually the definition's terminal edge. */
  readonly target: Edge;
  /** Cancels this build only; work shared with other builds goes on for them. */
  readonly signal?: AbortSignal;
  /** Receives this build's events (also those of shared vertices). Not closed by the solver. */
  readonly progress?: ProgressWriter;
  /**
   * This build's own cache records (e.g. the engine's store composed with `--cache-from` sources),
   * used instead of `SolverOptions.cache` for every lookup, save and invalidate of this build.
   * A build with its own store never shares in-flight vertices with other builds (their decisions
   * could differ); builds without one dedupe among themselves as before. Default: the solver's.
   */
  readonly cache?: CacheRecordStore;
  /** Loads the results of this build's cache hits (pairs with `cache`). Default: the solver's. */
  readonly loader?: ResultLoader;
  /**
   * How other builds name this one when they wait on a step it runs ("build REF"). Default: none
   * ("another build in this process").
   */
  readonly label?: string;
  /**
   * With its own `cache`/`loader`: solves that give the same scope share vertex states with each
   * other (the platforms of one multi-platform build, which bring one imported cache). Default: a
   * scope of this solve alone.
   */
  readonly storeScope?: string;
  /**
   * Says in words why a step is about to execute (e.g. by comparing it with earlier builds); its
   * answer replaces describeMissReason's in the step's events and record. Undefined or a throw:
   * the generic words. A vertex shared with a concurrent build uses the first build's explainer.
   */
  readonly explainMiss?: MissExplainer;
  /**
   * Names an earlier result of a step about to execute that its op may build on (OpContext.previous),
   * as the cache key of that earlier run (its output 0 record is loaded). Not asked for steps whose
   * cache is disabled. Undefined or a throw: none.
   */
  readonly previousResult?: PreviousResultFinder;
  /**
   * Gets what the build did, once, before solve() returns or throws: also when it failed or was
   * cancelled (a cancellation's error carries no summary), so a history can record every build.
   */
  readonly onSummary?: (summary: BuildSummary) => void;
}

/** What an explainer gets: the vertex, the solver's reason, and what its cache key was made of. */
export interface MissQuery {
  readonly vertex: Vertex;
  readonly reason: MissReason;
  /** CacheMap.digest: the op's own definition. */
  readonly opDigest: string;
  readonly parts: readonly KeyPart[];
}

export type MissExplainer = (q: MissQuery) => Promise<string | undefined>;

/** The cache key of an earlier run of the step (see SolveOptions.previousResult), or undefined. */
export type PreviousResultFinder = (q: MissQuery) => Promise<string | undefined>;

export interface SolveResult {
  /** The target's result; the caller owns it and must release it. */
  readonly result: Result;
  readonly summary: BuildSummary;
}

/** Why a step ran instead of coming from the cache. */
export type MissReason =
  | { readonly kind: 'no-record' }
  | { readonly kind: 'ignore-cache' }
  | { readonly kind: 'input-changed'; readonly input: number; readonly inputName: string }
  | { readonly kind: 'result-missing' };

/** How a step ended in one build. */
export type StepOutcome =
  /** A cache record existed (its result was loaded only if something needed it). */
  | 'cached'
  /** The op ran (in this build, or in a concurrent build this one attached to). */
  | 'executed'
  /** No record, but nothing needed the result (every dependent was a cache hit). */
  | 'skipped'
  | 'failed'
  /** Stopped or never finished because the build was cancelled or another step failed. */
  | 'canceled';

/** Per-step record of a build, for history and cache-hit reports. */
export interface StepRecord {
  readonly digest: string;
  readonly name: string;
  /** The persistent cache key, when it was computed. */
  readonly cacheKey: string | undefined;
  readonly outcome: StepOutcome;
  /** Set for `executed` (and for `failed` steps that were misses). */
  readonly missReason: MissReason | undefined;
  readonly started: number | undefined;
  readonly completed: number | undefined;
  /** Milliseconds the op ran (0 for cache hits). */
  readonly durationMs: number;
  /** The explainer's words for an executed (or failed) step, when it had some. */
  readonly why: string | undefined;
  /** What the cache key was made of (CacheMap.digest and the input parts), when it was computed. */
  readonly opDigest: string | undefined;
  readonly keyParts: readonly KeyPart[] | undefined;
}

export interface BuildSummary {
  readonly total: number;
  readonly cached: number;
  readonly executed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly canceled: number;
  readonly started: number;
  readonly completed: number;
  readonly durationMs: number;
  /** One record per vertex, in topological order (inputs first). */
  readonly steps: readonly StepRecord[];
}
