/** A Solver over fake ops with a real MemoryCacheStore and a real scheduler. */
import { MemoryCacheStore } from '../../src/solver/memory-cache-store.js';
import { Solver } from '../../src/solver/solver.js';
import { QueueScheduler } from '../../src/solver/scheduler.js';
import type { ProgressEvent } from '../../src/progress/types.js';
import type { Edge, SolveResult, Vertex } from '../../src/solver/types.js';
import { FakeWorld } from './fake-ops.js';

export interface Harness {
  readonly world: FakeWorld;
  readonly store: MemoryCacheStore;
  readonly loader: ReturnType<FakeWorld['loader']>;
  readonly scheduler: QueueScheduler;
  readonly solver: Solver;
  /** Solves, records the events, releases nothing (the test does). */
  solve(target: Vertex | Edge, opts?: { signal?: AbortSignal; events?: ProgressEvent[]; label?: string }): Promise<SolveResult>;
}

export function harness(opts: { maxParallelism?: number } = {}): Harness {
  const world = new FakeWorld();
  const store = new MemoryCacheStore();
  const loader = world.loader();
  const scheduler = new QueueScheduler({ maxParallelism: opts.maxParallelism ?? 4 });
  const solver = new Solver({ cache: store, loader, scheduler });
  return {
    world,
    store,
    loader,
    scheduler,
    solver,
    solve(target, o = {}) {
      const edge = 'vertex' in target ? target : { vertex: target, index: 0 };
      const events = o.events;
      return solver.solve({
        target: edge,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.label !== undefined ? { label: o.label } : {}),
        ...(events ? { progress: { write: (ev: ProgressEvent) => void events.push(ev) } } : {}),
      });
    },
  };
}

/** The step record of the vertex named `name`. */
export function step(res: { summary: SolveResult['summary'] }, name: string): SolveResult['summary']['steps'][number] {
  const s = res.summary.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
}
