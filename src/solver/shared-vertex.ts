/**
 * The in-flight state of one vertex, shared by every build in the process that contains it (the
 * dedupe of BuildKit's solver). It computes the vertex's cache key, decides hit or miss, and loads
 * or executes its outputs — each at most once, and only when some build asks. It lives while it is
 * held (by builds, and by the states of vertices that read from it); when the last hold goes it
 * aborts whatever still runs, waits for it, and releases every result it owns.
 */
import { setMaxListeners } from 'node:events';
import type { CacheRecord, StepLease } from './cache-types.js';
import type { ProgressWriter } from '../progress/types.js';
import { CancelledError } from '../util/errors.js';
import { abortable, noop } from './abortable.js';
import { computeCacheKey, type KeyPart } from './cache-key.js';
import { StepError, asCancelled } from './errors.js';
import { missReason, rebuiltInput } from './input-decisions.js';
import { describeMissReason } from './miss-reason.js';
import type { CacheMap, MissReason, OpContext, Result, Vertex } from './types.js';
import type { SolverDeps } from './solver-deps.js';
import { VertexProgressWriter } from '../progress/vertex-progress.js';
import { VertexEvents } from './vertex-events.js';
import { VertexStatus } from './vertex-status.js';
import { explainMiss, loadSaved, previousResult, saveRecords, stepError, takeStepLease, type StepScope } from './step-run.js';
import type { Decision, KeyInfo, VertexView } from './vertex-types.js';

/** An input of a shared vertex: output `index` of another shared vertex. */
export interface InputLink {
  readonly state: SharedVertex;
  readonly index: number;
}

export class SharedVertex {
  readonly vertex: Vertex;
  /** Registry id: the digest, plus whether the cache is ignored (those never share with users of it). */
  readonly id: string;
  /** The label of the build that created this state ("build REF"); other builds wait on its runs. */
  readonly owner: string | undefined;
  readonly #inputs: readonly InputLink[];
  readonly #deps: SolverDeps;
  readonly #ac = new AbortController();
  readonly #ctx: OpContext;
  readonly #events: VertexEvents;
  readonly #status: VertexStatus;
  readonly #scope: StepScope;
  readonly #wanted = new Set<number>();
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #owned: Result[] = [];
  readonly #outputs = new Map<number, Promise<Result>>();
  #holds = 0;
  #disposed = false;
  #key: Promise<KeyInfo> | undefined;
  #decision: Promise<Decision> | undefined;
  #exec: Promise<readonly Result[]> | undefined;

  constructor(vertex: Vertex, id: string, inputs: readonly InputLink[], deps: SolverDeps, owner?: string) {
    this.vertex = vertex;
    this.id = id;
    this.owner = owner;
    this.#inputs = inputs;
    this.#deps = deps;
    for (const l of inputs) l.state.retain();
    // Every dependent waiting on this vertex listens on the signal; that is not a leak.
    setMaxListeners(0, this.#ac.signal);
    this.#events = new VertexEvents(vertex);
    this.#status = new VertexStatus(this.#events, deps);
    this.#ctx = {
      vertex,
      signal: this.#ac.signal,
      progress: new VertexProgressWriter(vertex.digest, (ev) => this.#events.emit(ev), deps.now),
    };
    this.#scope = { vertex, deps, owner, ctx: this.#ctx, events: this.#events };
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  view(): VertexView {
    return this.#status.view();
  }

  retain(): void {
    if (this.#disposed) throw new Error(`internal: retain of disposed vertex ${this.vertex.name}`);
    this.#holds++;
  }

  /** Drops one hold; the last one disposes the vertex. */
  release(): void {
    if (--this.#holds > 0) return;
    this.#dispose();
  }

  /** Sends this vertex's events to `w` (first replaying what already happened). */
  attach(w: ProgressWriter): void {
    this.#events.attach(w);
  }

  detach(w: ProgressWriter): void {
    this.#events.detach(w);
  }

  /** Output indexes some build reads; cache lookups cover exactly these. */
  want(indexes: Iterable<number>): void {
    for (const i of indexes) this.#wanted.add(i);
  }

  /** The persistent cache key (computed once; needs the inputs' keys or content checksums). */
  key(): Promise<KeyInfo> {
    return (this.#key ??= this.#memo(this.#computeKey()));
  }

  /** Hit or miss, decided once from the key and the cache records of the wanted outputs. */
  decide(): Promise<Decision> {
    return (this.#decision ??= this.#memo(this.#decide()));
  }

  /** A new handle on output `index`, owned by the caller; loads or executes the vertex if needed. */
  async acquire(index: number): Promise<Result> {
    let p = this.#outputs.get(index);
    if (!p) this.#outputs.set(index, (p = this.#memo(this.#produce(index))));
    const r = await p;
    if (this.#disposed) throw new CancelledError(new Error(`${this.vertex.name} is no longer needed`));
    return r.clone();
  }

  // ---------------------------------------------------------------------------------------------

  async #computeKey(): Promise<KeyInfo> {
    const signal = this.#ac.signal;
    let cacheMap: CacheMap;
    try {
      cacheMap = await this.vertex.op.cacheMap(this.#ctx, 0);
    } catch (e) {
      throw this.#wrap(e);
    }
    if (cacheMap.deps.length > this.#inputs.length) {
      throw new StepError(this.vertex, new Error(`cache map has ${cacheMap.deps.length} deps for ${this.#inputs.length} inputs`));
    }
    const parts = await Promise.all(
      this.#inputs.map(async (link, i): Promise<KeyPart> => {
        const dep = cacheMap.deps[i];
        if (dep?.computeDigest) {
          const compute = dep.computeDigest;
          const res = await abortable(link.state.acquire(link.index), signal, (r) => this.#releaseLater(r));
          try {
            const checksum = await this.#deps.scheduler.run(() => compute(res, this.#ctx), { signal, priority: 1 });
            return { kind: 'content', selector: dep.selector ?? '', checksum };
          } catch (e) {
            throw this.#wrap(e);
          } finally {
            await res.release();
          }
        }
        const k = await abortable(link.state.key(), signal);
        return { kind: 'key', key: k.key, output: link.index };
      }),
    );
    const info: KeyInfo = { key: computeCacheKey(cacheMap.digest, parts), cacheMap, parts };
    this.#status.keyed(info);
    return info;
  }

  async #decide(): Promise<Decision> {
    const key = await this.key();
    if (this.vertex.options.ignoreCache) return this.#miss(key, { kind: 'ignore-cache' }, { rebuild: true });
    // An input re-executed for ignore-cache may now hold different content; whatever is keyed on
    // its (unchanged) cache key must not reuse results made from the old content.
    const rebuilt = await rebuiltInput(key, this.#inputs, this.#ac.signal);
    if (rebuilt) return this.#miss(key, rebuilt, { rebuild: true });
    const outputs = this.#outputsWanted();
    let found: (CacheRecord | undefined)[];
    try {
      found = await Promise.all(outputs.map((i) => this.#deps.cache.lookup(key.key, i)));
    } catch (e) {
      throw this.#wrap(e);
    }
    if (found.every((r) => r !== undefined)) {
      const records = new Map(outputs.map((o, i) => [o, found[i] as CacheRecord]));
      this.#status.cached();
      return { hit: true, key, records };
    }
    return this.#miss(key, await missReason(key, this.#inputs, this.#ac.signal));
  }

  #miss(key: KeyInfo, reason: MissReason, opts: { readonly rebuild: boolean } = { rebuild: false }): Decision {
    this.#status.missed(reason);
    return { hit: false, key, reason, rebuild: opts.rebuild };
  }

  async #produce(index: number): Promise<Result> {
    // A step that ignores the cache runs whatever its key: its inputs start now, while the key is
    // computed (a COPY's key waits for the context's checksums; the RUN below it need not), as
    // BuildKit runs a --no-cache build's first RUN while the context still arrives.
    const early = this.vertex.options.ignoreCache ? this.#acquireInputs() : undefined;
    let d: Decision;
    try {
      d = await this.decide();
    } catch (e) {
      if (early) this.#releaseAll(early);
      throw e;
    }
    if (early) {
      // Another output of this vertex got here first: its run already holds the inputs.
      if (this.#exec) this.#releaseAll(early);
      else this.#exec = this.#memo(this.#execute(d.key, { kind: 'ignore-cache' }, { replace: true }, early));
      return this.#output(await this.#exec, index);
    }
    let reason: MissReason;
    if (d.hit) {
      try {
        const rec = d.records.get(index) ?? (await this.#deps.cache.lookup(d.key.key, index));
        if (rec) {
          const r = await this.#deps.loader.load(rec.resultId, { signal: this.#ac.signal, recordType: rec.recordType });
          if (r) {
            this.#owned.push(r);
            return r;
          }
          // The record outlived its result (pruned): forget it and run the step again.
          await this.#deps.cache.invalidate(d.key.key, index);
          reason = { kind: 'result-missing' };
        } else {
          reason = { kind: 'no-record' };
        }
      } catch (e) {
        throw this.#wrap(e);
      }
    } else {
      reason = d.reason;
    }
    return this.#output(await (this.#exec ??= this.#memo(this.#execute(d.key, reason, { replace: !d.hit && d.rebuild }))), index);
  }

  #output(outs: readonly Result[], index: number): Result {
    const r = outs[index];
    if (!r) throw new StepError(this.vertex, new Error(`op returned ${outs.length} result(s); output ${index} was wanted`));
    return r;
  }

  /** `acquired`: the inputs' handles when the caller already asked for them (this call owns them then). */
  async #execute(key: KeyInfo, reason: MissReason, { replace }: { readonly replace: boolean }, acquired?: Promise<Result[]>): Promise<readonly Result[]> {
    this.#status.executing(reason);
    const signal = this.#ac.signal;
    const inputs = await (acquired ?? this.#acquireInputs());
    let lease: StepLease | undefined;
    let previous: Result | undefined;
    try {
      // Results that are not persisted (cacheMap.persist false) have no record to wait for.
      if (key.cacheMap.persist !== false) lease = await takeStepLease(this.#scope, key.key);
      // Looked up again even when the lease was free at once: another build may have run the step
      // and released its lease between this build's decision and its lease request.
      if (lease && !replace) {
        const saved = await this.#savedMeanwhile(key);
        if (saved) return saved;
      }
      const why = await explainMiss(this.#scope, key, reason);
      if (why !== undefined) this.#status.explained(why);
      previous = await previousResult(this.#scope, key, reason);
      const ctx: OpContext = previous ? { ...this.#ctx, previous } : this.#ctx;
      const outs = await this.#deps.scheduler.run(async () => {
        this.#status.started(why ?? describeMissReason(reason));
        return this.vertex.op.exec(ctx, inputs);
      }, { signal });
      this.#owned.push(...outs);
      if (signal.aborted) throw asCancelled(signal.reason);
      await saveRecords(this.#scope, key, outs, { replace });
      this.#status.completed();
      return outs;
    } catch (e) {
      const err = signal.aborted ? asCancelled(signal.reason) : this.#wrap(e);
      this.#status.failed(err);
      throw err;
    } finally {
      await previous?.release().catch(noop);
      await lease?.release();
      await Promise.allSettled(inputs.map((r) => r.release()));
    }
  }

  /**
   * After taking the lease: the records another build saved meanwhile, loaded, when they cover
   * every output this vertex serves (then the step counts as cached); undefined otherwise.
   */
  async #savedMeanwhile(key: KeyInfo): Promise<Result[] | undefined> {
    const saved = await loadSaved(this.#scope, key, this.#outputsWanted());
    if (!saved) return undefined;
    this.#owned.push(...saved.loaded);
    this.#status.cached();
    return saved.byOutput;
  }

  /** The outputs some build asked for (output 0 when none has yet). */
  #outputsWanted(): number[] {
    return this.#wanted.size > 0 ? [...this.#wanted].sort((a, b) => a - b) : [0];
  }

  /** Handles on every input's result, or none (all released) if one fails. */
  async #acquireInputs(): Promise<Result[]> {
    const signal = this.#ac.signal;
    const ps = this.#inputs.map((l) => abortable(l.state.acquire(l.index), signal, (r) => this.#releaseLater(r)));
    try {
      return await Promise.all(ps);
    } catch (e) {
      for (const p of ps) p.then((r) => this.#releaseLater(r), noop);
      throw e;
    }
  }

  #dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#events.close();
    this.#ac.abort(new CancelledError(new Error(`no build needs ${this.vertex.name} any more`)));
    for (const l of this.#inputs) l.state.release();
    const idle = (async () => {
      // Work started before the abort may still be settling (and may start more); wait for all of it.
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      const owned = this.#owned.splice(0);
      await Promise.allSettled(owned.map((r) => r.release()));
    })();
    this.#deps.onDispose(this.id, idle);
  }

  /** Tracks `p` until it settles, and marks its rejection handled (whoever awaits it still sees it). */
  #memo<T>(p: Promise<T>): Promise<T> {
    const tracked = p.then(noop, noop);
    this.#inflight.add(tracked);
    void tracked.then(() => this.#inflight.delete(tracked));
    return p;
  }

  #releaseLater(r: Result): void {
    this.#memo(r.release());
  }

  /** Releases handles acquired for a run that will not use them (once they arrive). */
  #releaseAll(handles: Promise<readonly Result[]>): void {
    this.#memo(handles.then((rs) => { for (const r of rs) this.#releaseLater(r); }, noop));
  }

  #wrap(e: unknown): unknown {
    return stepError(this.vertex, e);
  }
}
