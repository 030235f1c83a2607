/** Errors the solver throws. Each has a stable code; step failures carry the vertex and its location. */
import { CancelledError, TsbuildError, errorMessage } from '../util/errors.js';
import type { SourceLocation } from '../util/errors.js';
import type { BuildSummary, Vertex } from './types.js';

/** A step of the build failed: its op, its cache map, a content checksum, or loading its result. */
export class StepError extends TsbuildError {
  readonly vertexDigest: string;
  readonly vertexName: string;
  readonly locations: readonly SourceLocation[];
  /** What the build did up to the failure; set by the solver before the error leaves solve(). */
  summary: BuildSummary | undefined;

  constructor(vertex: Vertex, cause: unknown) {
    const inner = cause instanceof TsbuildError ? cause.location : undefined;
    const locations = vertex.options.locations?.length ? vertex.options.locations : inner ? [inner] : [];
    const first = locations[0];
    // The step's location is shown once, in front; the cause's own location would repeat it.
    const text = cause instanceof TsbuildError ? cause.message : errorMessage(cause);
    super('STEP_FAILED', `${vertex.name}: ${text}`, {
      cause,
      ...(first ? { location: first } : {}),
      detail: cause instanceof TsbuildError ? cause.detail : [],
    });
    this.name = 'StepError';
    this.vertexDigest = vertex.digest;
    this.vertexName = vertex.name;
    this.locations = locations;
  }
}

/** The definition handed to solve() is not a DAG the solver can run. */
export class InvalidGraphError extends TsbuildError {
  constructor(message: string) {
    super('INVALID_GRAPH', message);
    this.name = 'InvalidGraphError';
  }
}

/** A CancelledError for an abort reason, without wrapping one CancelledError in another. */
export function asCancelled(reason: unknown): CancelledError {
  return reason instanceof CancelledError ? reason : new CancelledError(reason);
}

/** True for errors that mean "stopped", not "failed". */
export function isCancellation(e: unknown): boolean {
  if (e instanceof CancelledError) return true;
  return e instanceof Error && e.name === 'AbortError';
}
