import { describe, expect, test } from '@jest/globals';
import { fakeVertex, FakeWorld } from './fake-ops.js';
import { harness } from './harness.js';
import { loadGraph } from '../../src/solver/graph.js';
import { InvalidGraphError } from '../../src/solver/errors.js';
import { computeCacheKey } from '../../src/solver/cache-key.js';
import type { Edge, Vertex } from '../../src/solver/types.js';
import type { ProgressEvent, VertexEvent } from '../../src/progress/types.js';

describe('graph loading', () => {
  test('orders vertices inputs-first and records the wanted outputs', () => {
    const w = new FakeWorld();
    const a = fakeVertex(w, { name: 'a', outputs: 2 });
    const b = fakeVertex(w, { name: 'b', inputs: [{ vertex: a, index: 1 }] });
    const c = fakeVertex(w, { name: 'c', inputs: [a, b] });
    const g = loadGraph({ vertex: c, index: 0 });
    expect(g.order.map((d) => g.vertices.get(d)?.name)).toEqual(['a', 'b', 'c']);
    expect([...(g.wanted.get(a.digest) ?? [])].sort()).toEqual([0, 1]);
    expect(g.graph.nodeCount()).toBe(3);
    expect(g.graph.edgeCount()).toBe(3);
  });

  test('a cycle is rejected with the names on it', () => {
    const w = new FakeWorld();
    const a = fakeVertex(w, { name: 'a' });
    const inputs: Edge[] = [];
    const b: Vertex = { ...fakeVertex(w, { name: 'b' }), inputs };
    const c: Vertex = { ...fakeVertex(w, { name: 'c' }), inputs: [{ vertex: b, index: 0 }] };
    inputs.push({ vertex: c, index: 0 }, { vertex: a, index: 0 });
    expect(() => loadGraph({ vertex: c, index: 0 })).toThrow(InvalidGraphError);
    expect(() => loadGraph({ vertex: c, index: 0 })).toThrow(/cycle through .*(b|c)/);
  });

  test('two vertices with one digest but different inputs are rejected', () => {
    const w = new FakeWorld();
    const x = fakeVertex(w, { name: 'x' });
    const y = fakeVertex(w, { name: 'y' });
    const v1 = fakeVertex(w, { name: 'v', inputs: [x] });
    const v2: Vertex = { ...v1, inputs: [{ vertex: y, index: 0 }] };
    const top = fakeVertex(w, { name: 'top', inputs: [v1, v2] });
    let err: unknown;
    try {
      loadGraph({ vertex: top, index: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidGraphError);
    expect((err as InvalidGraphError).code).toBe('INVALID_GRAPH');
  });

  test('a negative output index is rejected', () => {
    const w = new FakeWorld();
    expect(() => loadGraph({ vertex: fakeVertex(w, { name: 'a' }), index: -1 })).toThrow(/invalid output index -1/);
  });
});

describe('cache key function', () => {
  test('depends on the op digest, each input key and its output index, and content checksums', () => {
    const k = computeCacheKey('sha256:op', [{ kind: 'key', key: 'sha256:in', output: 0 }]);
    expect(k).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(computeCacheKey('sha256:op', [{ kind: 'key', key: 'sha256:in', output: 0 }])).toBe(k);
    expect(computeCacheKey('sha256:op2', [{ kind: 'key', key: 'sha256:in', output: 0 }])).not.toBe(k);
    expect(computeCacheKey('sha256:op', [{ kind: 'key', key: 'sha256:in', output: 1 }])).not.toBe(k);
    expect(computeCacheKey('sha256:op', [{ kind: 'content', selector: 'a', checksum: 'sha256:in' }])).not.toBe(k);
    expect(computeCacheKey('sha256:op', [])).not.toBe(k);
  });
});

describe('solver progress events', () => {
  test('a fresh build reports started/completed with timestamps; a rebuild reports every step cached', async () => {
    const h = harness();
    const mk = () => fakeVertex(h.world, { name: 'top', inputs: [fakeVertex(h.world, { name: 'base', logs: ['hello'] })] });
    const events: ProgressEvent[] = [];
    const first = await h.solve(mk(), { events });
    const vtx = events.filter((e): e is VertexEvent => e.type === 'vertex');
    expect(vtx.map((e) => `${e.name}:${e.state}`)).toEqual(['base:started', 'base:completed', 'top:started', 'top:completed']);
    for (const e of vtx) expect(typeof e.started).toBe('number');
    const log = events.find((e) => e.type === 'log');
    expect(log).toMatchObject({ type: 'log', stream: 1, data: 'hello\n' });
    expect(vtx[2]?.inputs).toEqual([vtx[0]?.digest]);
    await first.result.release();

    const again: ProgressEvent[] = [];
    const second = await h.solve(mk(), { events: again });
    expect(again.map((e) => (e.type === 'vertex' ? `${e.name}:${e.state}` : e.type))).toEqual(['base:cached', 'top:cached']);
    await second.result.release();
  });

  test('the summary counts and times steps', async () => {
    let t = 1000;
    const h = harness();
    const solver = new (await import('../../src/solver/solver.js')).Solver({ cache: h.store, loader: h.loader, now: () => (t += 10) });
    const res = await solver.solve({ target: { vertex: fakeVertex(h.world, { name: 'x' }), index: 0 } });
    expect(res.summary).toMatchObject({ total: 1, executed: 1, cached: 0, skipped: 0, failed: 0, canceled: 0 });
    expect(res.summary.durationMs).toBe(res.summary.completed - res.summary.started);
    expect(res.summary.durationMs).toBeGreaterThan(0);
    expect(res.summary.steps[0]?.durationMs).toBe(10);
    await res.result.release();
  });
});
