/**
 * Fake ops for solver tests, the way BuildKit tests its scheduler: in-memory results with a live
 * handle counter, controllable delays and gates, failures, and a loader over a "persisted" result
 * table. Real Solver, real scheduler, real MemoryCacheStore; only the op bodies are stand-ins.
 */
import { createHash } from 'node:crypto';
import type { CacheMap, Edge, Op, OpContext, Result, ResultLoader, Vertex, VertexOptions } from '../../src/solver/types.js';

const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** One exec of a fake op, timed with a monotonic clock. */
export interface ExecRecord {
  readonly name: string;
  readonly start: number;
  end: number | undefined;
  aborted: boolean;
}

/** Everything the fake ops share: the persisted results, the live handles, the exec log. */
export class FakeWorld {
  /** Handles created and not yet released. Must be 0 when a test ends. */
  liveRefs = 0;
  /** Results "committed" by execs, by id (what cache records point at). */
  readonly persisted = new Map<string, string>();
  readonly execs: ExecRecord[] = [];
  readonly loads: string[] = [];
  running = 0;
  peakRunning = 0;
  #nextId = 0;

  newId(): string {
    return `r${++this.#nextId}`;
  }

  handle(id: string): FakeResult {
    return new FakeResult(this, id);
  }

  value(id: string): string {
    const v = this.persisted.get(id);
    if (v === undefined) throw new Error(`no persisted result ${id}`);
    return v;
  }

  execCount(name: string): number {
    return this.execs.filter((e) => e.name === name).length;
  }

  loadsOf(name: string): number {
    return this.loads.filter((l) => l === name).length;
  }

  /** A loader that can be told to "lose" results (as if pruned). */
  loader(): ResultLoader & { pruned: Set<string> } {
    const pruned = new Set<string>();
    return {
      pruned,
      load: async (resultId) => {
        if (pruned.has(resultId) || !this.persisted.has(resultId)) return undefined;
        this.loads.push(nameOf(this.value(resultId)));
        return this.handle(resultId);
      },
    };
  }
}

/** A result value is `name(input,input…)`; its name is what the loads log records. */
function nameOf(value: string): string {
  const i = value.indexOf('(');
  return i < 0 ? value : value.slice(0, i);
}

export class FakeResult implements Result {
  readonly id: string;
  readonly #world: FakeWorld;
  #released = false;

  constructor(world: FakeWorld, id: string) {
    this.#world = world;
    this.id = id;
    world.liveRefs++;
  }

  get value(): string {
    return this.#world.value(this.id);
  }

  clone(): Result {
    if (this.#released) throw new Error(`clone of released handle on ${this.id}`);
    return new FakeResult(this.#world, this.id);
  }

  async release(): Promise<void> {
    if (this.#released) throw new Error(`double release of ${this.id}`);
    this.#released = true;
    this.#world.liveRefs--;
  }
}

export interface FakeVertexSpec {
  readonly name: string;
  readonly inputs?: readonly (Vertex | Edge)[];
  /** Changes the op's definition (digest and cache key) without changing the name. */
  readonly def?: string;
  /** Milliseconds exec takes (0 = resolves at once). */
  readonly delayMs?: number;
  /** Exec waits for this before finishing. */
  readonly gate?: Promise<void>;
  /** Exec throws this. */
  readonly fail?: string;
  /** Outputs exec produces (default 1). */
  readonly outputs?: number;
  /** Per input index: key that input by the content of this "path" of its value instead. */
  readonly contentDeps?: Readonly<Record<number, string>>;
  /** Lines written to stdout during exec. */
  readonly logs?: readonly string[];
  readonly options?: VertexOptions;
  /** Called with the op context when exec starts (tests grab the signal). */
  readonly onStart?: (ctx: OpContext) => void;
}

export function fakeVertex(world: FakeWorld, spec: FakeVertexSpec): Vertex {
  const inputs: Edge[] = (spec.inputs ?? []).map((x) => ('vertex' in x ? x : { vertex: x, index: 0 }));
  const def = `${spec.name}|${spec.def ?? ''}|${spec.outputs ?? 1}|${JSON.stringify(spec.contentDeps ?? {})}`;
  const digest = sha(`${def}|${inputs.map((e) => `${e.vertex.digest}#${e.index}`).join(',')}`);
  const op: Op = {
    async cacheMap(): Promise<CacheMap> {
      return {
        digest: sha(def),
        deps: inputs.map((_, i) => {
          const path = spec.contentDeps?.[i];
          if (path === undefined) return {};
          return {
            selector: path,
            computeDigest: async (res: Result) => sha(selectPath(world.value(res.id), path)),
          };
        }),
      };
    },
    async exec(ctx: OpContext, ins: readonly Result[]): Promise<Result[]> {
      const rec: ExecRecord = { name: spec.name, start: performance.now(), end: undefined, aborted: false };
      world.execs.push(rec);
      world.running++;
      world.peakRunning = Math.max(world.peakRunning, world.running);
      spec.onStart?.(ctx);
      try {
        for (const l of spec.logs ?? []) ctx.progress.log(1, `${l}\n`);
        await holdExec(spec, ctx.signal);
        if (spec.fail !== undefined) throw new Error(spec.fail);
        const value = `${spec.name}(${ins.map((r) => world.value(r.id)).join(',')})`;
        const outs: Result[] = [];
        for (let i = 0; i < (spec.outputs ?? 1); i++) {
          const id = world.newId();
          world.persisted.set(id, i === 0 ? value : `${value}#${i}`);
          outs.push(world.handle(id));
        }
        return outs;
      } catch (e) {
        rec.aborted = ctx.signal.aborted;
        throw e;
      } finally {
        world.running--;
        rec.end = performance.now();
      }
    },
  };
  return { digest, name: spec.name, inputs, op, options: spec.options ?? {} };
}

/**
 * A "context" source: its value is a JSON object of files; it is volatile (a new digest and cache
 * key per session, like BuildKit's local source), so consumers key it by content.
 */
export function contextVertex(world: FakeWorld, files: Record<string, string>, session: string): Vertex {
  const value = JSON.stringify(files);
  const digest = sha(`context|${session}`);
  const op: Op = {
    async cacheMap() {
      return { digest: sha(`context|${session}`), deps: [], recordType: 'source.local' };
    },
    async exec() {
      world.execs.push({ name: 'context', start: performance.now(), end: performance.now(), aborted: false });
      const id = world.newId();
      world.persisted.set(id, value);
      return [world.handle(id)];
    },
  };
  return { digest, name: '[internal] load build context', inputs: [], op, options: {} };
}

function selectPath(value: string, path: string): string {
  try {
    const files = JSON.parse(value) as Record<string, string>;
    return `${path}=${files[path] ?? '<missing>'}`;
  } catch {
    return value;
  }
}

/** The delay and gate of a fake exec, cut short by an abort. */
async function holdExec(spec: FakeVertexSpec, signal: AbortSignal): Promise<void> {
  const waits: Promise<void>[] = [];
  if (spec.delayMs) waits.push(new Promise((r) => setTimeout(r, spec.delayMs)));
  if (spec.gate) waits.push(spec.gate);
  if (waits.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.all(waits).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, reject);
  });
}
