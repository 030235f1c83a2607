/**
 * The typed progress stream of a build. The solver, the worker and the exporter write events; the
 * renderers (plain, tty, rawjson, quiet) and, later, the daemon's gRPC Status stream read them. The
 * shapes follow BuildKit's SolveStatus (vertexes, statuses, logs, warnings) so that mapping them onto
 * the wire is one function. Timestamps are milliseconds since the Unix epoch.
 */
import type { SourceLocation } from '../util/errors.js';

/** What happened to a vertex. `cached` means started and completed at once from the cache. */
export type VertexState = 'started' | 'cached' | 'completed' | 'error' | 'canceled';

/** A vertex (build step) changed state. */
export interface VertexEvent {
  readonly type: 'vertex';
  /** The vertex digest ("sha256:…"); the identity every other event refers to. */
  readonly digest: string;
  /** Display name, e.g. `[stage-0 2/5] RUN make` or `[internal] load build context`. */
  readonly name: string;
  readonly state: VertexState;
  /** When this event happened. */
  readonly timestamp: number;
  /** When the vertex started running (set on every state but `started`, where it equals timestamp). */
  readonly started?: number;
  /** When the vertex finished (set on `cached`, `completed`, `error`, `canceled`). */
  readonly completed?: number;
  /** One-line error message (`error` only). */
  readonly error?: string;
  /** Why the step runs instead of coming from the cache (`started` only, for solver steps). */
  readonly cacheMiss?: string;
  /** Digests of the vertices this one reads from, when known. */
  readonly inputs?: readonly string[];
}

/** A progress row under a vertex: a transfer, an export step, a layer being written. */
export interface StatusEvent {
  readonly type: 'status';
  /** The vertex the row belongs to. */
  readonly vertex: string;
  /** Stable id of the row within the build; also its text unless `name` is set (as in BuildKit). */
  readonly id: string;
  /** Display text, e.g. `transferring context:`; defaults to `id`. */
  readonly name?: string;
  /** Bytes (or items) done so far. */
  readonly current: number;
  /** Expected total; 0 or absent when unknown. */
  readonly total?: number;
  readonly timestamp: number;
  readonly started?: number;
  /** Set once the row is finished. */
  readonly completed?: number;
}

/** Output of a running step (a RUN's stdout/stderr). `data` may hold partial lines. */
export interface LogEvent {
  readonly type: 'log';
  readonly vertex: string;
  /** 1 = stdout, 2 = stderr. */
  readonly stream: 1 | 2;
  readonly data: string;
  readonly timestamp: number;
}

/** A build warning (lint-style); attached to a vertex when one is known. */
export interface WarningEvent {
  readonly type: 'warning';
  readonly vertex?: string;
  /** Short one-line text. */
  readonly message: string;
  readonly detail?: readonly string[];
  readonly url?: string;
  readonly location?: SourceLocation;
  readonly timestamp: number;
}

export type ProgressEvent = VertexEvent | StatusEvent | LogEvent | WarningEvent;

/** Anything that accepts events. Writing never throws and never blocks. */
export interface ProgressWriter {
  write(event: ProgressEvent): void;
}

/** A status row update as an op reports it (the vertex and timestamp are filled in for it). */
export interface StatusUpdate {
  readonly id: string;
  readonly name?: string;
  readonly current: number;
  readonly total?: number;
  readonly started?: number;
  readonly completed?: number;
}

/** A warning as an op reports it. */
export interface WarningUpdate {
  readonly message: string;
  readonly detail?: readonly string[];
  readonly url?: string;
  readonly location?: SourceLocation;
}

/**
 * Progress scoped to one vertex: what an op gets to report its logs, rows and warnings without
 * knowing its digest or the clock. Valid until the op's exec/cacheMap promise settles.
 */
export interface VertexProgress {
  readonly digest: string;
  log(stream: 1 | 2, data: string | Uint8Array): void;
  status(update: StatusUpdate): void;
  warn(warning: WarningUpdate): void;
}

/** The renderers a user can pick with `--progress`. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'rawjson' | 'quiet';

/** Where a renderer writes: process.stderr, or a test's recorder. */
export interface RenderTarget {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width (tty); 80 when unknown. */
  readonly columns?: number;
  /** Terminal height (tty); live frames are cut to fit, the final frame is not. */
  readonly rows?: number;
}

/** Consumes a build's events and draws them. */
export interface ProgressRenderer extends ProgressWriter {
  /**
   * Ends the display: prints what is pending, the final frame (tty), the last log lines of failed
   * steps between `------` lines, and the summary line. Idempotent. After close, writes are ignored.
   */
  close(): void;
}
