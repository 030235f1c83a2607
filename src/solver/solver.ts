/**
 * The Solver: runs builds (definitions reachable from a target edge) against one cache store,
 * sharing in-flight vertices between concurrent builds. One instance per engine (process).
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { ProgressEvent, ProgressWriter } from '../progress/types.js';
import { abortable } from './abortable.js';
import { StepError, asCancelled, isCancellation } from './errors.js';
import { loadGraph, type BuildGraph } from './graph.js';
import { QueueScheduler } from './scheduler.js';
import { SharedVertex, type InputLink } from './shared-vertex.js';
import type { SolverDeps } from './solver-deps.js';
import { stepRecord, summarize } from './summary.js';
import { safeWrite } from './vertex-events.js';
import { JoinedVertexWriter } from './joined-progress.js';
import type { Result, SolveOptions, SolveResult, SolverOptions, Vertex } from './types.js';

export class Solver {
  readonly #deps: SolverDeps;
  readonly #states = new Map<string, SharedVertex>();
  readonly #settling = new Set<Promise<void>>();
  /** Numbers the solves that bring their own cache store, to keep their vertices apart. */
  #ownStores = 0;

  constructor(opts: SolverOptions) {
    const scheduler = opts.scheduler ?? new QueueScheduler(opts.maxParallelism === undefined ? {} : { maxParallelism: opts.maxParallelism });
    this.#deps = {
      cache: opts.cache,
      loader: opts.loader,
      scheduler,
      now: opts.now ?? Date.now,
      onDispose: (id, idle) => {
        this.#states.delete(id);
        this.#settling.add(idle);
        void idle.finally(() => this.#settling.delete(idle));
      },
    };
  }

  /** Vertices currently held by some build (in flight or waiting to be consumed). */
  get activeVertices(): number {
    return this.#states.size;
  }

  /**
   * Builds `opts.target`. Resolves with the target's result (the caller releases it) and a summary;
   * rejects with a StepError naming the failed vertex, a CancelledError when `opts.signal` aborts, or
   * an InvalidGraphError. Either way, by the time it settles every result this build held is released
   * and every step that only this build wanted has stopped.
   */
  async solve(opts: SolveOptions): Promise<SolveResult> {
    const started = this.#deps.now();
    if (opts.signal?.aborted) throw asCancelled(opts.signal.reason);
    const graph = loadGraph(opts.target);
    const build = new AbortController();
    // One listener per vertex of the build waits on it.
    setMaxListeners(0, build.signal);
    const onAbort = (): void => build.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const own = opts.cache !== undefined || opts.loader !== undefined;
    let deps: SolverDeps = own ? { ...this.#deps, cache: opts.cache ?? this.#deps.cache, loader: opts.loader ?? this.#deps.loader } : this.#deps;
    if (opts.explainMiss) deps = { ...deps, explainMiss: opts.explainMiss };
    if (opts.previousResult) deps = { ...deps, previousResult: opts.previousResult };
    const { states, writers, joined } = this.#attach(graph, opts.progress, deps, own ? (opts.storeScope !== undefined ? `+scope:${opts.storeScope}` : `+solve:${++this.#ownStores}`) : '', opts.label);

    let result: Result | undefined;
    let error: unknown;
    try {
      const target = states.get(opts.target.vertex.digest) as SharedVertex;
      const decisions = [...states.values()].map((s) => abortable(s.decide(), build.signal));
      const wanted = abortable(target.acquire(opts.target.index), build.signal, (r) => void r.release());
      await Promise.all([
        wanted.then((r) => {
          result = r;
        }),
        ...decisions,
      ]);
    } catch (e) {
      error = e;
      build.abort(e);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }

    const succeeded = error === undefined;
    const steps = graph.order.map((d) => {
      const s = states.get(d) as SharedVertex;
      const step = stepRecord(s.vertex, s.view(), { buildSucceeded: succeeded });
      // Run by the build that started the shared vertex: this one only waited for it.
      if (joined.has(d) && step.outcome === 'executed') return { ...step, outcome: 'cached' as const, missReason: undefined, started: undefined, completed: undefined, durationMs: 0 };
      return step;
    });
    if (opts.progress) this.#closeOut(graph, states, opts.progress, succeeded);
    for (const [d, s] of states) {
      const w = writers.get(d);
      if (w) s.detach(w);
      s.release();
    }
    // Steps only this build wanted are being aborted now; wait until they stopped and let go.
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling]);
    const summary = summarize(steps, started, this.#deps.now());
    opts.onSummary?.(summary);

    if (succeeded && result) return { result, summary };
    if (result) await result.release();
    if (opts.signal?.aborted) throw asCancelled(opts.signal.reason);
    if (error instanceof StepError) error.summary = summary;
    if (isCancellation(error)) throw asCancelled(error);
    throw error;
  }

  /**
   * Gets or creates the shared state of every vertex (inputs first), holding each for this build.
   * `joined`: the vertices another build had already started (this build waits on their runs);
   * `writers`: the writer attached to each vertex's events (a JoinedVertexWriter for joined ones).
   */
  #attach(graph: BuildGraph, progress: ProgressWriter | undefined, deps: SolverDeps, scope: string, label: string | undefined): {
    states: Map<string, SharedVertex>; writers: Map<string, ProgressWriter>; joined: Set<string>;
  } {
    const states = new Map<string, SharedVertex>();
    const writers = new Map<string, ProgressWriter>();
    const joined = new Set<string>();
    for (const digest of graph.order) {
      const v = graph.vertices.get(digest) as Vertex;
      const inputs: InputLink[] = v.inputs.map((e) => ({ state: states.get(e.vertex.digest) as SharedVertex, index: e.index }));
      // A solve with its own cache store gets its own states (scope), so no other build sees its
      // decisions or asks its loader for results it cannot load.
      const id = stateId(v, inputs) + scope;
      let s = this.#states.get(id);
      if (!s) {
        s = new SharedVertex(v, id, inputs, deps, label);
        this.#states.set(id, s);
      } else {
        joined.add(digest);
      }
      s.retain();
      s.want(graph.wanted.get(digest) ?? []);
      if (progress) {
        const w = joined.has(digest) ? new JoinedVertexWriter(progress, digest, s.owner) : progress;
        writers.set(digest, w);
        s.attach(w);
      }
      states.set(digest, s);
    }
    return { states, writers, joined };
  }

  /**
   * The events only this build's stream gets at its end: steps still running elsewhere are cancelled
   * from its point of view, and steps it never needed (a dependent was a cache hit) show as cached.
   */
  #closeOut(graph: BuildGraph, states: ReadonlyMap<string, SharedVertex>, progress: ProgressWriter, succeeded: boolean): void {
    const now = this.#deps.now();
    for (const digest of graph.order) {
      const s = states.get(digest) as SharedVertex;
      const v = s.view();
      const base = { type: 'vertex', digest, name: s.vertex.name, timestamp: now, inputs: s.vertex.inputs.map((e) => e.vertex.digest) } as const;
      let ev: ProgressEvent | undefined;
      if (!succeeded && v.exec === 'running') {
        ev = { ...base, state: 'canceled', started: v.started ?? now, completed: now };
      } else if (succeeded && v.decision === 'miss' && (v.exec === 'none' || v.exec === 'running')) {
        ev = { ...base, state: 'cached', started: now, completed: now };
      }
      if (ev) safeWrite(progress, ev);
    }
  }
}

/**
 * The registry id of a vertex's shared state: its digest, unless it (or something below it) ignores
 * the cache. Those run apart from users of the cache, since the same digest may then be a hit for one
 * build and a forced rebuild for another.
 */
function stateId(v: Vertex, inputs: readonly InputLink[]): string {
  let id = v.options.ignoreCache ? `${v.digest}+ignore-cache` : v.digest;
  const upstream = inputs.filter((l) => l.state.id !== l.state.vertex.digest).map((l) => l.state.id);
  if (upstream.length > 0) id += `+after:${createHash('sha256').update(upstream.join(',')).digest('hex').slice(0, 16)}`;
  return id;
}
