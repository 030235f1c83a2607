/**
 * The parts of running a missed step that talk to the cache and the build rather than to the op
 * (shared-vertex.ts `#execute`): the store's lease on the key, the records another build saved
 * meanwhile, the earlier result an incremental op starts from, the build's words for the miss, and
 * the records of the run's results.
 */
import { inputLink } from './cache-key.js';
import type { StepLease } from './cache-types.js';
import { asCancelled, StepError, isCancellation } from './errors.js';
import { WAITING_STATUS_ID, waitingMessage } from './joined-progress.js';
import type { SolverDeps } from './solver-deps.js';
import type { MissReason, OpContext, Result, Vertex } from './types.js';
import type { VertexEvents } from './vertex-events.js';
import type { KeyInfo } from './vertex-types.js';

/** One shared vertex as these steps see it. */
export interface StepScope {
  readonly vertex: Vertex;
  readonly deps: SolverDeps;
  /** The label of the build that owns the vertex ("build REF"), named to builds that wait on it. */
  readonly owner: string | undefined;
  readonly ctx: OpContext;
  readonly events: VertexEvents;
}

/** A failure as the step reports it: cancellations and step errors as they are, others wrapped. */
export function stepError(vertex: Vertex, e: unknown): unknown {
  if (e instanceof StepError || isCancellation(e)) return e;
  return new StepError(vertex, e);
}

/**
 * The store's lease on `key` (identical steps of concurrent builds, in this process or others,
 * run once): waits while another build computes the same key, saying so under the step — it
 * shows as started with the status "waiting for the same step in HOLDER" (and a log line), then
 * CACHED once the holder saved its result.
 */
export async function takeStepLease(s: StepScope, key: string): Promise<StepLease | undefined> {
  const lease = s.deps.cache.lease;
  if (!lease) return undefined;
  const { signal, progress } = s.ctx;
  let waiting: { since: number; name: string } | undefined;
  try {
    return await lease.call(s.deps.cache, key, {
      signal,
      ...(s.owner !== undefined ? { holder: s.owner } : {}),
      onWait: (holder) => {
        const now = s.deps.now();
        waiting = { since: now, name: waitingMessage(holder) };
        s.events.vertex('started', now, { started: now });
        progress.status({ id: WAITING_STATUS_ID, name: waiting.name, current: 0, started: now });
        progress.log(2, `waiting for ${holder}, which is running the same step\n`);
      },
    });
  } catch (e) {
    throw signal.aborted ? asCancelled(signal.reason) : stepError(s.vertex, e);
  } finally {
    if (waiting) progress.status({ id: WAITING_STATUS_ID, name: waiting.name, current: 0, started: waiting.since, completed: s.deps.now() });
  }
}

/**
 * The results saved under `key` for every one of `outputs`, loaded (indexed by output), when all
 * are there; undefined (nothing held) when one is missing.
 */
export async function loadSaved(s: StepScope, key: KeyInfo, outputs: readonly number[]): Promise<{ byOutput: Result[]; loaded: Result[] } | undefined> {
  const loaded: Result[] = [];
  const byOutput: Result[] = [];
  for (const i of outputs) {
    const rec = await s.deps.cache.lookup(key.key, i);
    const r = rec ? await s.deps.loader.load(rec.resultId, { signal: s.ctx.signal, recordType: rec.recordType }) : undefined;
    if (!r) {
      await Promise.allSettled(loaded.map((x) => x.release()));
      return undefined;
    }
    loaded.push(r);
    byOutput[i] = r;
  }
  return { byOutput, loaded };
}

/**
 * A handle on the earlier result the build names for this step (SolveOptions.previousResult),
 * loaded like a cache hit so that nothing removes it while the op reads it; undefined when there
 * is none, the cache is disabled for the step, or anything fails (the op then starts from scratch).
 */
export async function previousResult(s: StepScope, key: KeyInfo, reason: MissReason): Promise<Result | undefined> {
  const find = s.deps.previousResult;
  if (!find || reason.kind === 'ignore-cache' || s.vertex.options.ignoreCache) return undefined;
  try {
    const earlier = await find({ vertex: s.vertex, reason, opDigest: key.cacheMap.digest, parts: key.parts });
    if (earlier === undefined || earlier === key.key) return undefined;
    const rec = await s.deps.cache.lookup(earlier, 0);
    if (!rec) return undefined;
    return await s.deps.loader.load(rec.resultId, { signal: s.ctx.signal, recordType: rec.recordType });
  } catch {
    return undefined;
  }
}

/** The build's explanation of this miss in words; undefined when it has none (or failed). */
export async function explainMiss(s: StepScope, key: KeyInfo, reason: MissReason): Promise<string | undefined> {
  const explain = s.deps.explainMiss;
  if (!explain) return undefined;
  try {
    return await explain({ vertex: s.vertex, reason, opDigest: key.cacheMap.digest, parts: key.parts });
  } catch {
    return undefined;
  }
}

/**
 * Saves the record of every output of a run under `key` (none when the results are not persisted,
 * cacheMap.persist false); `replace`: over the records of an earlier run (re-executed for
 * ignore-cache).
 */
export async function saveRecords(s: StepScope, key: KeyInfo, outs: readonly Result[], { replace }: { readonly replace: boolean }): Promise<void> {
  const recordType = key.cacheMap.recordType ?? 'regular';
  const inputKeys = key.parts.map(inputLink);
  const persisted = key.cacheMap.persist === false ? [] : outs;
  await Promise.all(
    persisted.map((r, output) =>
      s.deps.cache.save({
        key: key.key,
        output,
        resultId: r.id,
        recordType,
        description: s.vertex.name,
        inputKeys,
        ...(r.size === undefined ? {} : { size: r.size }),
        ...(replace ? { replace: true } : {}),
      }),
    ),
  );
}
