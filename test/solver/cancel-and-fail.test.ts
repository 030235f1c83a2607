import { describe, expect, test } from '@jest/globals';
import { fakeVertex } from './fake-ops.js';
import { deferred, waitFor } from '../helpers/wait-for.js';
import { harness, step } from './harness.js';
import { StepError } from '../../src/solver/errors.js';
import type { ProgressEvent, VertexEvent } from '../../src/progress/types.js';
import type { OpContext, Vertex } from '../../src/solver/types.js';
import { CancelledError, isTsbuildError } from '../../src/util/errors.js';

describe('cancellation', () => {
  test('aborting stops running steps, releases every result, saves nothing for them; a rebuild reuses what finished', async () => {
    const h = harness({ maxParallelism: 4 });
    const never = new Promise<void>(() => undefined);
    const ctxs: OpContext[] = [];
    const build = (gated: boolean): Vertex => {
      const base = fakeVertex(h.world, { name: 'base' });
      const fast = fakeVertex(h.world, { name: 'fast', inputs: [base] });
      const slow1 = fakeVertex(h.world, { name: 'slow1', inputs: [base], ...(gated ? { gate: never, onStart: (c) => void ctxs.push(c) } : {}) });
      const slow2 = fakeVertex(h.world, { name: 'slow2', inputs: [fast], ...(gated ? { gate: never, onStart: (c) => void ctxs.push(c) } : {}) });
      return fakeVertex(h.world, { name: 'join', inputs: [slow1, slow2] });
    };
    const ac = new AbortController();
    const events: ProgressEvent[] = [];
    const p = h.solve(build(true), { signal: ac.signal, events });
    await waitFor(() => ctxs.length === 2, { what: 'both slow steps to run' });
    ac.abort(new Error('SIGINT'));
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(isTsbuildError(err) && err.code).toBe('CANCELLED');
    // The ops saw the abort, and every handle (inputs, loaded, executed) is released.
    expect(ctxs.every((c) => c.signal.aborted)).toBe(true);
    expect(h.world.execs.filter((e) => e.name.startsWith('slow')).every((e) => e.aborted)).toBe(true);
    expect(h.world.liveRefs).toBe(0);
    expect(h.solver.activeVertices).toBe(0);
    // Only the finished steps have records.
    expect(h.store.records().map((r) => r.description).sort()).toEqual(['base', 'fast']);
    const canceled = events.filter((e): e is VertexEvent => e.type === 'vertex' && e.state === 'canceled').map((e) => e.name).sort();
    expect(canceled).toEqual(['slow1', 'slow2']);

    const again = await h.solve(build(false));
    expect(step(again, 'base').outcome).toBe('cached');
    expect(step(again, 'fast').outcome).toBe('cached');
    expect(step(again, 'slow1').outcome).toBe('executed');
    expect(h.world.execCount('base')).toBe(1);
    expect(h.world.execCount('fast')).toBe(1);
    await again.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a signal aborted before solve starts runs nothing', async () => {
    const h = harness();
    const ac = new AbortController();
    ac.abort();
    await expect(h.solve(fakeVertex(h.world, { name: 'x' }), { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(h.world.execs).toHaveLength(0);
  });

  test('aborting while a step waits for a slot cancels it without running it', async () => {
    const h = harness({ maxParallelism: 1 });
    const gate = deferred();
    const blocker = fakeVertex(h.world, { name: 'blocker', gate: gate.promise });
    const queued = fakeVertex(h.world, { name: 'queued' });
    const ac = new AbortController();
    const other = h.solve(blocker);
    await waitFor(() => h.world.running === 1, { what: 'blocker to run' });
    const p = h.solve(queued, { signal: ac.signal });
    await waitFor(() => h.scheduler.waiting === 1, { what: 'queued to wait for a slot' });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(h.world.execCount('queued')).toBe(0);
    gate.resolve();
    await (await other).result.release();
    expect(h.world.liveRefs).toBe(0);
  });
});

describe('failure', () => {
  test('a failing op fails the build with its vertex and location, cancels the other steps, releases everything', async () => {
    const h = harness({ maxParallelism: 4 });
    let siblingCtx: OpContext | undefined;
    const base = fakeVertex(h.world, { name: 'base' });
    const sibling = fakeVertex(h.world, { name: 'sibling', inputs: [base], gate: new Promise(() => undefined), onStart: (c) => (siblingCtx = c) });
    const bad = fakeVertex(h.world, {
      name: '[stage-0 3/4] RUN make',
      inputs: [base],
      delayMs: 20,
      fail: 'process "/bin/sh -c make" did not complete successfully: exit code: 2',
      logs: ['cc main.c', 'main.c:1: error'],
      options: { locations: [{ file: 'Dockerfile', line: 7, column: 1 }] },
    });
    const events: ProgressEvent[] = [];
    const err = await h.solve(fakeVertex(h.world, { name: 'join', inputs: [sibling, bad] }), { events }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepError);
    const se = err as StepError;
    expect(se.code).toBe('STEP_FAILED');
    expect(se.vertexName).toBe('[stage-0 3/4] RUN make');
    expect(se.location).toEqual({ file: 'Dockerfile', line: 7, column: 1 });
    expect(se.describe()).toBe(
      'Dockerfile:7:1: [stage-0 3/4] RUN make: process "/bin/sh -c make" did not complete successfully: exit code: 2',
    );
    expect(se.summary).toMatchObject({ total: 4, executed: 1, failed: 1, canceled: 2 });
    expect(siblingCtx?.signal.aborted).toBe(true);
    expect(h.world.liveRefs).toBe(0);
    expect(h.solver.activeVertices).toBe(0);
    const errorEvent = events.find((e): e is VertexEvent => e.type === 'vertex' && e.state === 'error');
    expect(errorEvent).toMatchObject({ name: '[stage-0 3/4] RUN make', error: 'process "/bin/sh -c make" did not complete successfully: exit code: 2' });
    expect(h.store.records().map((r) => r.description)).toEqual(['base']);
  });

  test('a failing cache map fails the build as that step', async () => {
    const h = harness();
    const v = fakeVertex(h.world, { name: 'resolve image' });
    const broken: Vertex = { ...v, op: { ...v.op, cacheMap: async () => Promise.reject(new Error('manifest unknown')) } };
    const err = await h.solve(fakeVertex(h.world, { name: 'top', inputs: [broken] })).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toBe('resolve image: manifest unknown');
    expect(h.world.execs).toHaveLength(0);
  });

  test('an op that returns too few outputs fails clearly', async () => {
    const h = harness();
    const one = fakeVertex(h.world, { name: 'one' });
    const err = await h.solve({ vertex: one, index: 3 }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toBe('one: op returned 1 result(s); output 3 was wanted');
    expect(h.world.liveRefs).toBe(0);
  });

  test('a failure shared by two builds reaches both', async () => {
    const h = harness();
    const gate = deferred();
    const mk = () => fakeVertex(h.world, { name: 'bad', gate: gate.promise, fail: 'boom' });
    const pa = h.solve(fakeVertex(h.world, { name: 'a', inputs: [mk()] }));
    const pb = h.solve(fakeVertex(h.world, { name: 'b', inputs: [mk()] }));
    await waitFor(() => h.world.execCount('bad') === 1, { what: 'bad to run' });
    gate.resolve();
    const [ea, eb] = await Promise.all([pa.then(() => undefined, (e: unknown) => e), pb.then(() => undefined, (e: unknown) => e)]);
    expect(ea).toBeInstanceOf(StepError);
    expect(eb).toBeInstanceOf(StepError);
    expect(h.world.execCount('bad')).toBe(1);
    expect(h.world.liveRefs).toBe(0);
  });
});
