import { describe, expect, test } from '@jest/globals';
import { fakeVertex } from './fake-ops.js';
import { deferred, waitFor } from '../helpers/wait-for.js';
import { harness } from './harness.js';
import { QueueScheduler } from '../../src/solver/scheduler.js';
import { CancelledError } from '../../src/util/errors.js';

describe('scheduling', () => {
  test('independent branches run at the same time', async () => {
    const h = harness({ maxParallelism: 2 });
    // Each branch waits for a gate that opens only once both have started: they must overlap.
    const gate = deferred();
    const left = fakeVertex(h.world, { name: 'left', gate: gate.promise });
    const right = fakeVertex(h.world, { name: 'right', gate: gate.promise });
    const join = fakeVertex(h.world, { name: 'join', inputs: [left, right] });
    const p = h.solve(join);
    await waitFor(() => h.world.running === 2, { what: 'both branches to start' });
    gate.resolve();
    const res = await p;
    const [l, r] = ['left', 'right'].map((n) => h.world.execs.find((e) => e.name === n));
    expect(l && r).toBeTruthy();
    if (!l || !r) return;
    // Overlap by timestamps: each started before the other ended.
    expect(l.start).toBeLessThan(r.end as number);
    expect(r.start).toBeLessThan(l.end as number);
    // join ran after both.
    const j = h.world.execs.find((e) => e.name === 'join');
    expect(j?.start).toBeGreaterThanOrEqual(Math.max(l.end as number, r.end as number));
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a step that ignores the cache runs its inputs while its own key still waits for content (--no-cache: RUN before COPY runs while the context arrives)', async () => {
    const h = harness({ maxParallelism: 2 });
    // `context` stands for the build context still being received: keying `copy` by its content
    // has to wait for it; the RUN below `copy` does not.
    const arrived = deferred();
    const context = fakeVertex(h.world, { name: 'context', gate: arrived.promise });
    const base = fakeVertex(h.world, { name: 'base', options: { ignoreCache: true } });
    const run = fakeVertex(h.world, { name: 'run', inputs: [base], options: { ignoreCache: true } });
    const copy = fakeVertex(h.world, { name: 'copy', inputs: [run, context], contentDeps: { 1: 'f' }, options: { ignoreCache: true } });
    const p = h.solve(copy);
    await waitFor(() => h.world.execs.some((e) => e.name === 'run' && e.end !== undefined), { what: 'the RUN to finish before the context arrived' });
    expect(h.world.execCount('copy')).toBe(0);
    arrived.resolve();
    const res = await p;
    expect(h.world.value(res.result.id)).toBe('copy(run(base()),context())');
    expect(h.world.execs.map((e) => e.name).sort()).toEqual(['base', 'context', 'copy', 'run']);
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('maxParallelism bounds how many ops run at once', async () => {
    const h = harness({ maxParallelism: 2 });
    const leaves = Array.from({ length: 6 }, (_, i) => fakeVertex(h.world, { name: `leaf${i}`, delayMs: 15 }));
    const join = fakeVertex(h.world, { name: 'join', inputs: leaves });
    const res = await h.solve(join);
    expect(h.world.peakRunning).toBe(2);
    expect(h.scheduler.peak).toBe(2);
    expect(h.world.execs).toHaveLength(7);
    await res.result.release();
  });

  test('a vertex waiting for its inputs holds no slot (one slot, deep chain, diamond)', async () => {
    const h = harness({ maxParallelism: 1 });
    const root = fakeVertex(h.world, { name: 'root', delayMs: 2 });
    const a = fakeVertex(h.world, { name: 'a', inputs: [root], delayMs: 2 });
    const b = fakeVertex(h.world, { name: 'b', inputs: [root], delayMs: 2 });
    let top = fakeVertex(h.world, { name: 'diamond', inputs: [a, b] });
    for (let i = 0; i < 10; i++) top = fakeVertex(h.world, { name: `step${i}`, inputs: [top] });
    const res = await h.solve(top);
    expect(h.world.execs).toHaveLength(14);
    expect(h.world.peakRunning).toBe(1);
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('the scheduler runs higher priority first and drops queued tasks whose signal aborts', async () => {
    const s = new QueueScheduler({ maxParallelism: 1 });
    const order: string[] = [];
    const gate = deferred();
    const never = new AbortController();
    const blocker = s.run(async () => {
      await gate.promise;
      order.push('blocker');
    }, { signal: never.signal });
    const ac = new AbortController();
    const dropped = s.run(async () => {
      order.push('dropped');
    }, { signal: ac.signal });
    const low = s.run(async () => void order.push('low'), { signal: never.signal, priority: 0 });
    const high = s.run(async () => void order.push('high'), { signal: never.signal, priority: 5 });
    ac.abort(new Error('user'));
    await expect(dropped).rejects.toBeInstanceOf(CancelledError);
    gate.resolve();
    await Promise.all([blocker, low, high]);
    expect(order).toEqual(['blocker', 'high', 'low']);
  });

  test('a running task keeps its slot until it settles, even after its signal aborts', async () => {
    const s = new QueueScheduler({ maxParallelism: 1 });
    const ac = new AbortController();
    const settle = deferred();
    let finished = false;
    const running = s.run(async (signal) => {
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      // Still busy after the abort (cleaning up) until the test lets it finish.
      await settle.promise;
      finished = true;
    }, { signal: ac.signal });
    await waitFor(() => s.running === 1, { what: 'task to start' });
    ac.abort();
    let nextSawFinished: boolean | undefined;
    const next = s.run(async () => {
      nextSawFinished = finished;
    }, { signal: new AbortController().signal });
    // A full turn of the event loop: had the abort freed the slot, `next` would have started.
    await new Promise((r) => setImmediate(r));
    expect(nextSawFinished).toBeUndefined();
    expect([s.running, s.waiting]).toEqual([1, 1]);
    settle.resolve();
    await running;
    await next;
    expect(nextSawFinished).toBe(true);
    expect(s.peak).toBe(1);
  });

  test('rejects a bad maxParallelism', () => {
    expect(() => new QueueScheduler({ maxParallelism: 0 })).toThrow(RangeError);
  });
});
