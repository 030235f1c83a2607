/**
 * The builds the daemon runs now, by ref: what ListBuilds lists and Status attaches to. Each build
 * keeps its progress stream in wire form, so a client attaching late gets every event replayed from
 * the beginning and then the live ones, and its end (the result or the error) for whoever watches
 * when it comes. Solve registers a build once it has its ref and removes it when the call ends; it
 * asks `watchers` whether anyone is attached when its own client goes away (the build then goes on
 * for them instead of being cancelled) and `onUnwatched` to cancel it once the last of them leaves.
 *
 * Memory: vertex, status and warning events are all kept (a build has few); log events are kept up
 * to MAX_REPLAY_LOG_BYTES, dropping the oldest, like the per-vertex replay of the solver.
 */
import type { tsbuild } from '../client/gen/control.js';
import { tsbuild as gen } from '../client/gen/control.js';
import { TsbuildError } from '../util/errors.js';

type WireProgress = tsbuild.control.v1.ProgressEvent.$Properties;
type WireResult = tsbuild.control.v1.BuildResult.$Properties;
type WireRunningBuild = tsbuild.control.v1.RunningBuild.$Properties;
const VertexState = gen.control.v1.VertexState;

/** Log bytes kept for attachers per build; older log events are dropped first. */
const MAX_REPLAY_LOG_BYTES = 8 * 1024 * 1024;

/** How a build ended: its result, or the error its client got. */
export type BuildEnd = { readonly result: WireResult } | { readonly error: TsbuildError };

/** A client attached to a build (a Status call). Must not throw. */
export interface BuildWatcher {
  /**
   * Whether this client keeps the build alive when the client that started it goes away: only a
   * client that could have started a build itself (admin). A read-only token may watch, never hold.
   */
  readonly keepsAlive: boolean;
  progress(event: WireProgress): void;
  end(end: BuildEnd): void;
}

export interface BuildInfo {
  readonly ref: string;
  /** The principal that started it (token name, certificate subject, "local"). */
  readonly client: string;
  readonly tags: readonly string[];
  readonly target: string;
  /** The Dockerfile's name as the client gave it. */
  readonly dockerfile: string;
}

export class RunningBuild {
  readonly info: BuildInfo;
  readonly startedMs = Date.now();
  readonly #events: WireProgress[] = [];
  readonly #watchers = new Set<BuildWatcher>();
  /** Vertex digest → done (cached, completed or failed). */
  readonly #vertices = new Map<string, 'running' | 'done' | 'cached'>();
  #logBytes = 0;
  #end: BuildEnd | undefined;
  #onUnwatched: (() => void) | undefined;

  constructor(info: BuildInfo) {
    this.info = info;
  }

  /** Clients attached now that keep the build alive (BuildWatcher.keepsAlive). */
  get keepers(): number {
    let n = 0;
    for (const w of this.#watchers) if (w.keepsAlive) n++;
    return n;
  }

  /** Records an event of the build and hands it to every attached client. */
  progress(ev: WireProgress): void {
    if (this.#end) return;
    this.#count(ev);
    this.#events.push(ev);
    if (ev.log) {
      this.#logBytes += ev.log.data?.length ?? 0;
      while (this.#logBytes > MAX_REPLAY_LOG_BYTES) {
        const i = this.#events.findIndex((e) => e.log);
        if (i < 0) break;
        this.#logBytes -= this.#events[i]?.log?.data?.length ?? 0;
        this.#events.splice(i, 1);
      }
    }
    for (const w of this.#watchers) w.progress(ev);
  }

  /** The build ended: every attached client gets `end`; later attachers get nothing (it is removed). */
  finish(end: BuildEnd): void {
    if (this.#end) return;
    this.#end = end;
    const all = [...this.#watchers];
    this.#watchers.clear();
    for (const w of all) w.end(end);
  }

  /**
   * Attaches `w`: replays every event so far, then streams the live ones and the end. Returns the
   * detach function (idempotent). A build that already ended gives the end at once.
   */
  watch(w: BuildWatcher): () => void {
    for (const ev of this.#events) w.progress(ev);
    if (this.#end) {
      w.end(this.#end);
      return () => undefined;
    }
    this.#watchers.add(w);
    return () => {
      if (!this.#watchers.delete(w)) return;
      if (w.keepsAlive && this.keepers === 0) this.#onUnwatched?.();
    };
  }

  /** Calls `f` when the last attached keeper detaches (Solve cancels a build nobody is left for). */
  onUnwatched(f: () => void): void {
    this.#onUnwatched = f;
  }

  /** The ListBuilds row. */
  toWire(): WireRunningBuild {
    let done = 0;
    let cached = 0;
    for (const s of this.#vertices.values()) {
      if (s !== 'running') done++;
      if (s === 'cached') cached++;
    }
    return {
      ref: this.info.ref,
      client: this.info.client,
      tags: [...this.info.tags],
      target: this.info.target,
      dockerfile: this.info.dockerfile,
      startedMs: this.startedMs,
      verticesTotal: this.#vertices.size,
      verticesDone: done,
      verticesCached: cached,
      attached: this.#watchers.size,
    };
  }

  #count(ev: WireProgress): void {
    const v = ev.vertex;
    if (!v?.digest) return;
    const was = this.#vertices.get(v.digest);
    switch (v.state) {
      case VertexState.VERTEX_STATE_CACHED:
        this.#vertices.set(v.digest, 'cached');
        break;
      case VertexState.VERTEX_STATE_COMPLETED:
      case VertexState.VERTEX_STATE_ERROR:
      case VertexState.VERTEX_STATE_CANCELED:
        if (was !== 'cached') this.#vertices.set(v.digest, 'done');
        break;
      default:
        if (was === undefined) this.#vertices.set(v.digest, 'running');
    }
  }
}

export const RunningBuildErrors = {
  refInUse: (ref: string) => new TsbuildError('BUILD_REF_IN_USE', `a build with ref ${JSON.stringify(ref)} is already running; choose another ref or leave it empty`),
} as const;

/** The daemon's running builds, by ref (one per daemon). */
export class RunningBuilds {
  readonly #builds = new Map<string, RunningBuild>();

  /** Registers a build; throws BUILD_REF_IN_USE when the ref is taken. */
  add(info: BuildInfo): RunningBuild {
    if (this.#builds.has(info.ref)) throw RunningBuildErrors.refInUse(info.ref);
    const b = new RunningBuild(info);
    this.#builds.set(info.ref, b);
    return b;
  }

  /** Forgets a build (its Solve call ended). */
  remove(b: RunningBuild): void {
    if (this.#builds.get(b.info.ref) === b) this.#builds.delete(b.info.ref);
  }

  get(ref: string): RunningBuild | undefined {
    return this.#builds.get(ref);
  }

  /** Oldest first. */
  list(): RunningBuild[] {
    return [...this.#builds.values()].sort((a, b) => a.startedMs - b.startedMs);
  }
}
