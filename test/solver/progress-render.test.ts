import { describe, expect, test } from '@jest/globals';
import { fakeVertex } from './fake-ops.js';
import { harness } from './harness.js';
import { Solver } from '../../src/solver/solver.js';
import { ProgressStream } from '../../src/progress/stream.js';
import { PlainRenderer } from '../../src/progress/plain.js';
import type { Vertex } from '../../src/solver/types.js';

describe('solver events through the plain renderer', () => {
  test('a build, then its full-hit rebuild, read like BuildKit plain output', async () => {
    const h = harness();
    let t = 0;
    const now = (): number => (t += 1);
    const solver = new Solver({ cache: h.store, loader: h.loader, scheduler: h.scheduler, now });
    const graph = (): Vertex => {
      const from = fakeVertex(h.world, { name: '[1/3] FROM docker.io/library/busybox' });
      const run = fakeVertex(h.world, { name: '[2/3] RUN echo hi', inputs: [from], logs: ['hi'] });
      return fakeVertex(h.world, { name: '[3/3] RUN true', inputs: [run] });
    };
    const render = async (): Promise<string> => {
      const stream = new ProgressStream();
      let text = '';
      const r = new PlainRenderer({ out: { write: (s: string) => (text += s) }, now });
      stream.subscribe((ev) => r.write(ev));
      const res = await solver.solve({ target: { vertex: graph(), index: 0 }, progress: stream });
      await res.result.release();
      stream.close();
      r.close();
      return text;
    };

    const first = (await render()).split('\n');
    expect(first.filter((l) => /^#\d+ [[]/.test(l))).toEqual([
      '#1 [1/3] FROM docker.io/library/busybox',
      '#2 [2/3] RUN echo hi',
      '#3 [3/3] RUN true',
    ]);
    expect(first.filter((l) => / DONE \d+\.\ds$/.test(l))).toHaveLength(3);
    expect(first).toContainEqual(expect.stringMatching(/^#2 0\.00\d hi$/));
    expect(first.at(-2)).toMatch(/^steps: 3 total, 0 cached, 3 executed in \d+\.\ds$/);

    const second = await render();
    expect(second).toMatch(
      /^#1 \[1\/3\] FROM docker.io\/library\/busybox\n#1 CACHED\n\n#2 \[2\/3\] RUN echo hi\n#2 CACHED\n\n#3 \[3\/3\] RUN true\n#3 CACHED\nsteps: 3 total, 3 cached, 0 executed in \d+\.\ds\n$/,
    );
    expect(h.world.liveRefs).toBe(0);
  });
});
