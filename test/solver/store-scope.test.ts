/**
 * Solves that bring their own cache store (a build with --cache-from) keep their vertex states
 * apart, unless they name one store scope: the platforms of a multi-platform build do, so a step
 * they share still runs once.
 */
import { describe, expect, test } from '@jest/globals';
import { fakeVertex } from './fake-ops.js';
import { deferred, waitFor } from '../helpers/wait-for.js';
import { harness, step } from './harness.js';
import { MemoryCacheStore } from '../../src/solver/memory-cache-store.js';
import type { SolveResult, Vertex } from '../../src/solver/types.js';

describe('store scopes', () => {
  async function twoSolves(scopes: readonly [string | undefined, string | undefined]): Promise<{ execs: number; results: SolveResult[] }> {
    const h = harness();
    const gate = deferred();
    const own = new MemoryCacheStore();
    const shared = (): Vertex => fakeVertex(h.world, { name: 'shared', gate: gate.promise });
    const tops = [fakeVertex(h.world, { name: 'amd64', inputs: [shared()] }), fakeVertex(h.world, { name: 'arm64', inputs: [shared()] })];
    const runs = tops.map((t, i) => h.solver.solve({
      target: { vertex: t, index: 0 }, cache: own, loader: h.loader,
      ...(scopes[i] !== undefined ? { storeScope: scopes[i] as string } : {}),
    }));
    await waitFor(() => h.world.execCount('shared') >= 1, { what: 'shared to start' });
    gate.resolve();
    const results = await Promise.all(runs);
    const execs = h.world.execCount('shared');
    for (const r of results) await r.result.release();
    expect(h.world.liveRefs).toBe(0);
    return { execs, results };
  }

  test('one scope: the shared step runs once, the second solve takes its result', async () => {
    const { execs, results } = await twoSolves(['build-1', 'build-1']);
    expect(execs).toBe(1);
    expect(results.map((r) => step(r, 'shared').outcome).sort()).toEqual(['cached', 'executed']);
  });

  test('no scope: each solve with its own store runs its own states', async () => {
    const { execs } = await twoSolves([undefined, undefined]);
    expect(execs).toBe(2);
  });
});
