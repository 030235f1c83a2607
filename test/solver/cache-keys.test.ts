import { describe, expect, test } from '@jest/globals';
import { contextVertex, fakeVertex, type FakeWorld } from './fake-ops.js';
import { harness, step } from './harness.js';
import type { Vertex } from '../../src/solver/types.js';
import { describeMissReason } from '../../src/solver/summary.js';

/** base → mid → top, each a fake op; `defs` changes one op's definition. */
function chain(world: FakeWorld, defs: { base?: string; mid?: string; top?: string } = {}): Vertex {
  const base = fakeVertex(world, { name: 'base', def: defs.base ?? '' });
  const mid = fakeVertex(world, { name: 'mid', inputs: [base], def: defs.mid ?? '' });
  return fakeVertex(world, { name: 'top', inputs: [mid], def: defs.top ?? '' });
}

describe('cache keys and hits', () => {
  test('a fresh build executes every step and saves one record per output', async () => {
    const h = harness();
    const res = await h.solve(chain(h.world));
    expect((res.result as { value?: string }).value).toBe('top(mid(base()))');
    expect(h.world.execs.map((e) => e.name)).toEqual(['base', 'mid', 'top']);
    expect(res.summary).toMatchObject({ total: 3, executed: 3, cached: 0 });
    expect(h.store.size).toBe(3);
    for (const s of res.summary.steps) {
      expect(s.outcome).toBe('executed');
      expect(s.cacheKey).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(h.store.peek(s.cacheKey as string)).toBeDefined();
    }
    expect(step(res, 'base').missReason).toEqual({ kind: 'no-record' });
    expect(step(res, 'mid').missReason).toEqual({ kind: 'input-changed', input: 0, inputName: 'base' });
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a full-hit rebuild executes nothing and loads only the final result', async () => {
    const h = harness();
    const first = await h.solve(chain(h.world));
    await first.result.release();
    const execsBefore = h.world.execs.length;

    const again = await h.solve(chain(h.world));
    expect(h.world.execs.length).toBe(execsBefore);
    expect(again.summary).toMatchObject({ total: 3, cached: 3, executed: 0 });
    expect(h.world.loads).toEqual(['top']);
    expect((again.result as { value?: string }).value).toBe('top(mid(base()))');
    // Same definitions, same keys.
    expect(again.summary.steps.map((s) => s.cacheKey)).toEqual(first.summary.steps.map((s) => s.cacheKey));
    await again.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('lazy: when only the top step changes, its input is loaded and the one below is not', async () => {
    const h = harness();
    await (await h.solve(chain(h.world))).result.release();
    h.world.loads.length = 0;

    const res = await h.solve(chain(h.world, { top: 'v2' }));
    expect(h.world.execCount('top')).toBe(2);
    expect(h.world.execCount('mid')).toBe(1);
    expect(h.world.loads).toEqual(['mid']);
    expect(step(res, 'base').outcome).toBe('cached');
    expect(step(res, 'mid').outcome).toBe('cached');
    expect(step(res, 'top')).toMatchObject({ outcome: 'executed', missReason: { kind: 'no-record' } });
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('changing a leaf changes every key above it, and the miss reason names the changed input', async () => {
    const h = harness();
    const a = await h.solve(chain(h.world));
    const b = await h.solve(chain(h.world, { base: 'v2' }));
    for (const name of ['base', 'mid', 'top']) expect(step(b, name).cacheKey).not.toBe(step(a, name).cacheKey);
    expect(step(b, 'top').missReason).toEqual({ kind: 'input-changed', input: 0, inputName: 'mid' });
    expect(describeMissReason(step(b, 'top').missReason as never)).toBe('input mid changed');
    // Changing the middle leaves the key below it alone.
    const c = await h.solve(chain(h.world, { mid: 'v3' }));
    expect(step(c, 'base').cacheKey).toBe(step(a, 'base').cacheKey);
    expect(step(c, 'mid').cacheKey).not.toBe(step(a, 'mid').cacheKey);
    expect(step(c, 'top').cacheKey).not.toBe(step(a, 'top').cacheKey);
    for (const r of [a, b, c]) await r.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('content-based deps: a COPY is keyed by the content of exactly its sources', async () => {
    const h = harness();
    const graph = (files: Record<string, string>, session: string): Vertex => {
      const ctx = contextVertex(h.world, files, session);
      const base = fakeVertex(h.world, { name: 'base' });
      const copyA = fakeVertex(h.world, { name: 'COPY a', inputs: [base, ctx], contentDeps: { 1: 'a' } });
      return fakeVertex(h.world, { name: 'COPY b', inputs: [copyA, ctx], contentDeps: { 1: 'b' } });
    };
    const first = await h.solve(graph({ a: '1', b: '1' }, 's1'));
    expect(first.summary.executed).toBe(4);

    // A new session with the same files: the context runs again (it is volatile), nothing else.
    const same = await h.solve(graph({ a: '1', b: '1' }, 's2'));
    expect(step(same, 'COPY a').outcome).toBe('cached');
    expect(step(same, 'COPY b').outcome).toBe('cached');
    expect(step(same, 'COPY a').cacheKey).toBe(step(first, 'COPY a').cacheKey);

    // Changing b changes only the COPY of b.
    const changedB = await h.solve(graph({ a: '1', b: '2' }, 's3'));
    expect(step(changedB, 'COPY a').cacheKey).toBe(step(first, 'COPY a').cacheKey);
    expect(step(changedB, 'COPY a').outcome).toBe('cached');
    expect(step(changedB, 'COPY b').cacheKey).not.toBe(step(first, 'COPY b').cacheKey);
    expect(step(changedB, 'COPY b').outcome).toBe('executed');
    expect(h.world.execCount('COPY a')).toBe(1);
    expect(h.world.execCount('COPY b')).toBe(2);

    // Changing a changes COPY a, and so COPY b above it (keyed by its input's key).
    const changedA = await h.solve(graph({ a: '9', b: '2' }, 's4'));
    expect(step(changedA, 'COPY a').outcome).toBe('executed');
    expect(step(changedA, 'COPY b').cacheKey).not.toBe(step(changedB, 'COPY b').cacheKey);
    for (const r of [first, same, changedB, changedA]) await r.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('ignoreCache re-executes a step that has a record, replaces the record, and rebuilds what is keyed on it', async () => {
    const h = harness();
    const first = await h.solve(chain(h.world));
    await first.result.release();
    const midKey = step(first, 'mid').cacheKey as string;
    const oldId = h.store.peek(midKey)?.resultId;

    const base = fakeVertex(h.world, { name: 'base' });
    const mid = fakeVertex(h.world, { name: 'mid', inputs: [base], options: { ignoreCache: true } });
    const top = fakeVertex(h.world, { name: 'top', inputs: [mid] });
    const res = await h.solve(top);
    expect(step(res, 'base').outcome).toBe('cached');
    expect(step(res, 'mid')).toMatchObject({ outcome: 'executed', missReason: { kind: 'ignore-cache' }, cacheKey: midKey });
    expect(step(res, 'top')).toMatchObject({ outcome: 'executed', missReason: { kind: 'input-changed', inputName: 'mid' } });
    expect(h.world.execCount('base')).toBe(1);
    expect(h.world.execCount('mid')).toBe(2);
    const newId = h.store.peek(midKey)?.resultId;
    expect(newId).toBeDefined();
    expect(newId).not.toBe(oldId);
    await res.result.release();

    // Without ignore-cache the new record is a hit.
    const after = await h.solve(chain(h.world));
    expect(after.summary.cached).toBe(3);
    expect(h.world.loads.at(-1)).toBe('top');
    await after.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a record whose result is gone is invalidated and the step runs again', async () => {
    const h = harness();
    const first = await h.solve(chain(h.world));
    await first.result.release();
    const topId = h.store.peek(step(first, 'top').cacheKey as string)?.resultId as string;
    h.loader.pruned.add(topId);

    const res = await h.solve(chain(h.world));
    expect(step(res, 'top')).toMatchObject({ outcome: 'executed', missReason: { kind: 'result-missing' } });
    expect(h.world.execCount('top')).toBe(2);
    expect(h.store.peek(step(res, 'top').cacheKey as string)?.resultId).not.toBe(topId);
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a step whose dependents are all hits is skipped when its own record is gone', async () => {
    const h = harness();
    const first = await h.solve(chain(h.world));
    await first.result.release();
    h.store.delete(step(first, 'mid').cacheKey as string);

    const res = await h.solve(chain(h.world));
    expect(step(res, 'mid').outcome).toBe('skipped');
    expect(step(res, 'top').outcome).toBe('cached');
    expect(h.world.execCount('mid')).toBe(1);
    expect(res.summary).toMatchObject({ cached: 2, skipped: 1, executed: 0 });
    await res.result.release();
  });

  test('an op with several outputs: each output is its own record and edges pick one', async () => {
    const h = harness();
    const split = fakeVertex(h.world, { name: 'split', outputs: 2 });
    const use = fakeVertex(h.world, { name: 'use', inputs: [{ vertex: split, index: 1 }] });
    const res = await h.solve(use);
    expect((res.result as { value?: string }).value).toBe('use(split()#1)');
    expect(h.store.size).toBe(3);
    await res.result.release();
    const again = await h.solve({ vertex: split, index: 1 });
    expect((again.result as { value?: string }).value).toBe('split()#1');
    expect(again.summary.cached).toBe(1);
    await again.result.release();
    expect(h.world.liveRefs).toBe(0);
  });

  test('a vertex reading two outputs of one op gets both, and each handle is released', async () => {
    const h = harness();
    const split = fakeVertex(h.world, { name: 'split', outputs: 2 });
    const both = fakeVertex(h.world, { name: 'both', inputs: [{ vertex: split, index: 0 }, { vertex: split, index: 1 }] });
    const res = await h.solve(both);
    expect((res.result as { value?: string }).value).toBe('both(split(),split()#1)');
    expect(h.world.execCount('split')).toBe(1);
    await res.result.release();
    expect(h.world.liveRefs).toBe(0);
  });
});
