/**
 * A new result's walk at commit (src/worker/ops/context.ts snapshotResult, one walkDiff for its size
 * and its entries) fills the engine's layer walks, so the image's layer figures at the end of the
 * build read the new layer from there instead of walking it again (issue 14: a one-file edit of the
 * seed's 100,000-file COPY walked the new layer for each). The result's size is du's.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/index.js';
import type { BuildRequest } from '../../src/engine/types.js';
import { treeUsage } from '../../src/util/tree-usage.js';
import { describeBuilds, useBuildEnv } from '../helpers/build-env.js';

describeBuilds("the engine's layer walks", () => {
  const env = useBuildEnv();
  let engine: Engine | undefined;
  let ctx: string;

  beforeAll(() => {
    ctx = join(env.root, '..', 'walks-ctx');
    mkdirSync(join(ctx, 'd'), { recursive: true });
    writeFileSync(join(ctx, 'd', 'a.txt'), 'a\n');
    writeFileSync(join(ctx, 'd', 'b.txt'), 'bb\n');
  });
  afterAll(async () => {
    await engine?.close();
  });

  test("a COPY's new layer is walked once, at commit: its entries are in the engine's layer walks, its size is du's", async () => {
    engine = await Engine.open({ root: env.root });
    const req: BuildRequest = {
      contextDir: ctx, dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\nCOPY d /data/\n').toString('base64') },
      buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [{ type: 'local', attrs: { dest: join(env.root, '..', 'walks-out') } }],
    };
    const before = new Set((await engine.services.snapshotter.list()).map((s) => s.id));
    await engine.build(req, { signal: new AbortController().signal });
    const made = (await engine.services.snapshotter.list()).filter((s) => !before.has(s.id));
    expect(made).toHaveLength(1);
    const id = made[0]?.id ?? '';
    expect([...(engine.services.layerWalks.get(id) ?? [])].map(([p, e]) => [p, e.kind === 'file' ? { kind: e.kind, size: e.size } : e])).toEqual([
      ['data', { kind: 'dir', opaque: false }],
      ['data/a.txt', { kind: 'file', size: 2 }],
      ['data/b.txt', { kind: 'file', size: 3 }],
    ]);
    const size = (engine.services.storage.db.prepare('SELECT size FROM refs WHERE result_id = ?').get(id) as { size: number | null } | undefined)?.size;
    expect(size).toBe((await treeUsage(engine.services.snapshotter.diffDir(id))).bytes);
  }, 120_000);
});
