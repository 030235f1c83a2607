import { describe, expect, test } from '@jest/globals';
import { fakeVertex } from './fake-ops.js';
import { deferred, waitFor } from '../helpers/wait-for.js';
import { harness, step } from './harness.js';
import type { ProgressEvent, VertexEvent } from '../../src/progress/types.js';
import type { OpContext } from '../../src/solver/types.js';
import { CancelledError } from '../../src/util/errors.js';

const vertexStates = (events: ProgressEvent[], name: string): string[] =>
  events.filter((e): e is VertexEvent => e.type === 'vertex' && e.name === name).map((e) => e.state);
const logsOf = (events: ProgressEvent[]): string[] => events.flatMap((e) => (e.type === 'log' ? [e.data] : []));

describe('dedupe across concurrent builds', () => {
  test('two solves of graphs sharing a vertex run it once; the second shows it waiting on the first, then CACHED', async () => {
    const h = harness();
    const gate = deferred();
    // Separate Vertex objects with equal digests, as two loads of one definition produce.
    const shared = () => fakeVertex(h.world, { name: 'shared', gate: gate.promise, logs: ['compiling'] });
    const topA = fakeVertex(h.world, { name: 'topA', inputs: [shared()] });
    const topB = fakeVertex(h.world, { name: 'topB', inputs: [shared()] });
    const eventsA: ProgressEvent[] = [];
    const eventsB: ProgressEvent[] = [];
    const pa = h.solve(topA, { events: eventsA, label: 'build A' });
    await waitFor(() => h.world.execCount('shared') === 1, { what: 'shared to start' });
    const pb = h.solve(topB, { events: eventsB, label: 'build B' });
    gate.resolve();
    const [a, b] = await Promise.all([pa, pb]);

    expect(h.world.execCount('shared')).toBe(1);
    expect((a.result as { value?: string }).value).toBe('topA(shared())');
    expect((b.result as { value?: string }).value).toBe('topB(shared())');
    // A ran it; B waited for A's run and took its result: a cache hit from B's point of view.
    expect(step(a, 'shared').outcome).toBe('executed');
    expect(step(b, 'shared').outcome).toBe('cached');
    expect(b.summary.executed).toBe(1);
    expect(vertexStates(eventsA, 'shared')).toEqual(['started', 'completed']);
    expect(logsOf(eventsA)).toEqual(['compiling\n']);
    expect(vertexStates(eventsB, 'shared')).toEqual(['started', 'cached']);
    expect(logsOf(eventsB)).toEqual([]);
    const waiting = eventsB.flatMap((e) => (e.type === 'status' ? [{ name: e.name, done: e.completed !== undefined }] : []));
    expect(waiting).toEqual([
      { name: 'waiting for the same step in build A', done: false },
      { name: 'waiting for the same step in build A', done: true },
    ]);
    expect(vertexStates(eventsA, 'topB')).toEqual([]);
    await a.result.release();
    await b.result.release();
    expect(h.world.liveRefs).toBe(0);
    expect(h.solver.activeVertices).toBe(0);
  });

  test('two solves of the same target each own a handle on the one result', async () => {
    const h = harness();
    const gate = deferred();
    const mk = () => fakeVertex(h.world, { name: 'only', gate: gate.promise });
    const pa = h.solve(mk());
    const pb = h.solve(mk());
    await waitFor(() => h.world.execCount('only') === 1, { what: 'exec' });
    gate.resolve();
    const [a, b] = await Promise.all([pa, pb]);
    expect(h.world.execCount('only')).toBe(1);
    expect(a.result.id).toBe(b.result.id);
    expect(a.result).not.toBe(b.result);
    await a.result.release();
    expect(h.world.liveRefs).toBe(1);
    await b.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('cancelling one build leaves the shared step running for the other', async () => {
    const h = harness();
    const gate = deferred();
    let sharedCtx: OpContext | undefined;
    const shared = () => fakeVertex(h.world, { name: 'shared', gate: gate.promise, onStart: (c) => (sharedCtx = c) });
    const topA = fakeVertex(h.world, { name: 'topA', inputs: [shared()] });
    const topB = fakeVertex(h.world, { name: 'topB', inputs: [shared()] });
    const ac = new AbortController();
    const eventsA: ProgressEvent[] = [];
    const pa = h.solve(topA, { signal: ac.signal, events: eventsA });
    const pb = h.solve(topB);
    await waitFor(() => sharedCtx !== undefined, { what: 'shared to start' });
    ac.abort(new Error('user pressed ^C'));
    await expect(pa).rejects.toBeInstanceOf(CancelledError);
    // From A's point of view the shared step was cancelled; for B it goes on.
    expect(vertexStates(eventsA, 'shared')).toEqual(['started', 'canceled']);
    expect(sharedCtx?.signal.aborted).toBe(false);
    gate.resolve();
    const b = await pb;
    expect((b.result as { value?: string }).value).toBe('topB(shared())');
    expect(h.world.execCount('shared')).toBe(1);
    expect(h.world.execCount('topA')).toBe(0);
    await b.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a vertex with ignore-cache is not merged with a cached use of the same digest', async () => {
    const h = harness();
    const first = await h.solve(fakeVertex(h.world, { name: 'x' }));
    await first.result.release();
    const gate = deferred();
    const pa = h.solve(fakeVertex(h.world, { name: 'x', gate: gate.promise }));
    const pb = h.solve(fakeVertex(h.world, { name: 'x', gate: gate.promise, options: { ignoreCache: true } }));
    gate.resolve();
    const [a, b] = await Promise.all([pa, pb]);
    expect(step(a, 'x').outcome).toBe('cached');
    expect(step(b, 'x').outcome).toBe('executed');
    await a.result.release();
    await b.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a dependent of an ignore-cache vertex is not merged with the cached build of the same digest', async () => {
    const h = harness();
    const graph = (opts: { gate?: Promise<void>; noCache?: boolean }) => {
      const base = fakeVertex(h.world, { name: 'base', ...(opts.noCache ? { options: { ignoreCache: true } } : {}) });
      return fakeVertex(h.world, { name: 'top', inputs: [base], ...(opts.gate ? { gate: opts.gate } : {}) });
    };
    await (await h.solve(graph({}))).result.release();
    const gate = deferred();
    // The cached build holds "top" (a hit) while the --no-cache-filter build runs.
    const pa = h.solve(fakeVertex(h.world, { name: 'hold', inputs: [graph({})], gate: gate.promise }));
    await waitFor(() => h.world.execCount('hold') === 1, { what: 'hold to run' });
    const b = await h.solve(graph({ noCache: true }));
    expect(step(b, 'base').outcome).toBe('executed');
    expect(step(b, 'top')).toMatchObject({ outcome: 'executed', missReason: { kind: 'input-changed', inputName: 'base' } });
    gate.resolve();
    const a = await pa;
    expect(step(a, 'top').outcome).toBe('cached');
    await a.result.release();
    await b.result.release();
    expect(h.world.liveRefs).toBe(0);
  });
});

