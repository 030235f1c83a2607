/**
 * A daemon's engine (`afterBuild: 'background'`) answers a build before writing its history record
 * (issue 10). Whoever reads the history must still find it: the History call right after the
 * result, the next build's miss explanation, and a reopened engine after close().
 */
import { expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRequest } from '../../src/engine/index.js';
import { Engine } from '../../src/engine/index.js';
import { BASE, describeBuilds, useBuildEnv } from '../helpers/build-env.js';

function request(contextDir: string, dockerfile: string): BuildRequest {
  return {
    contextDir,
    dockerfile: { name: 'Dockerfile', content: Buffer.from(dockerfile).toString('base64') },
    buildArgs: {},
    labels: {},
    noCache: false,
    noCacheFilter: [],
    network: 'default',
    ssh: {},
    tags: ['localhost/after-build:latest'],
    outputs: [],
  };
}

describeBuilds('bookkeeping after a build (background)', () => {
  const env = useBuildEnv();
  const signal = new AbortController().signal;

  test('the history has each build as soon as it returns; the next build explains its miss by it; close() finishes the writes', async () => {
    const ctx = await env.context('ctx', { 'a.txt': 'one\n' });
    const df = `FROM ${BASE}\nCOPY a.txt /a.txt\n`;
    const engine = await Engine.open({ root: env.root, afterBuild: 'background' });
    try {
      const first = await engine.build(request(ctx, df), { signal });
      const afterFirst = await engine.buildHistory({}, { signal });
      expect(afterFirst.map((b) => [b.status, b.stepsExecuted])).toEqual([['succeeded', 2]]);
      // Its layers are recorded too (read while the result was still held).
      expect(afterFirst[0]?.layers?.length).toBe(2);
      expect(first.summary.executed).toBeGreaterThan(0);

      await writeFile(join(ctx, 'a.txt'), 'two\n');
      await engine.build(request(ctx, df), { signal });
      const afterSecond = await engine.buildHistory({}, { signal });
      expect(afterSecond.map((b) => [b.status, b.stepsCached, b.stepsExecuted])).toEqual([['succeeded', 1, 1], ['succeeded', 0, 2]]);
      const copy = afterSecond[0]?.steps.find((s) => s.instruction === 'COPY a.txt /a.txt');
      // Explained by the first build's record, not as a first build.
      expect(copy?.why).toMatch(/a\.txt/);
      expect(copy?.why).not.toMatch(/first build/);

      // A third build's record is still being written when the engine closes: close() waits for it.
      await writeFile(join(ctx, 'a.txt'), 'three\n');
      await engine.build(request(ctx, df), { signal });
    } finally {
      await engine.close();
    }
    const reopened = await Engine.open({ root: env.root });
    try {
      expect((await reopened.buildHistory({}, { signal })).map((b) => b.stepsExecuted)).toEqual([1, 1, 2]);
    } finally {
      await reopened.close();
    }
  }, 180_000);
});
