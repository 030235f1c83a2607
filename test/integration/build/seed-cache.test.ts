/**
 * Issue 4 acceptance through the real CLI on the busybox base: the seed example builds; an immediate
 * rebuild is all CACHED and executes nothing; editing layer2 rebuilds exactly `COPY layer2` and the
 * steps after it; touching or adding unrelated context files changes nothing.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { cp, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/paths.js';
import { describeIf, isRoot, haveBinary } from '../../helpers/skip.js';
import { makeBuildEnv, mountsUnder, rawSummary, rawVertices, type BuildEnv } from '../../helpers/build-env.js';

const steps = ['[1/6] FROM localhost/busybox:latest', '[2/6] RUN mkdir -p /data/layer', '[3/6] COPY layer1 /data/layer', '[4/6] COPY layer2 /data/layer', '[5/6] COPY layer3 /data/layer', `[6/6] RUN echo 'echo "hello"' >> /etc/profile`];

describeIf(isRoot && haveBinary('runc'), 'needs root and runc', 'seed example: layer cache', () => {
  let env: BuildEnv;
  let ctx: string;
  beforeAll(async () => {
    env = await makeBuildEnv();
    ctx = join(env.dir, 'layer');
    await cp(join(repoRoot, 'examples', 'layer'), ctx, { recursive: true });
  });
  afterAll(async () => {
    expect(await mountsUnder(env.dir)).toEqual([]);
    await env.cleanup();
  });

  const build = async (): Promise<{ executed: Set<string>; cached: Set<string>; summary: ReturnType<typeof rawSummary> }> => {
    const r = await env.run(['build', '--progress=rawjson', '-t', 'layer', ctx]);
    expect(r.stderr).not.toContain('"state":"error"');
    expect(r.code).toBe(0);
    const vs = rawVertices(r.stderr);
    const executed = new Set<string>();
    const cached = new Set<string>();
    for (const s of steps) {
      const v = vs.get(s);
      if (!v) throw new Error(`step ${s} missing from progress:\n${[...vs.keys()].join('\n')}`);
      (v.cached ? cached : executed).add(s);
    }
    return { executed, cached, summary: rawSummary(r.stderr) };
  };

  test('first build executes every step', async () => {
    const b = await build();
    expect([...b.executed]).toEqual(steps);
  });

  test('an immediate rebuild reports every step CACHED and executes nothing', async () => {
    const b = await build();
    expect([...b.cached]).toEqual(steps);
    expect(b.summary).toMatchObject({ total: 6, cached: 6, executed: 0 });
  });

  test('touching and adding unrelated context files invalidates nothing', async () => {
    await utimes(join(ctx, 'layer1'), new Date(), new Date(Date.now() + 60_000));
    await writeFile(join(ctx, 'unrelated.txt'), 'not copied anywhere');
    const b = await build();
    expect(b.summary.executed).toBe(0);
  });

  test('editing layer2 rebuilds exactly COPY layer2 and the steps after it', async () => {
    await writeFile(join(ctx, 'layer2'), 'layer 2, edited\n');
    const b = await build();
    expect([...b.executed]).toEqual(steps.slice(3));
    expect([...b.cached]).toEqual(steps.slice(0, 3));
  });

  test('a miss says why: the edited COPY names its file, then each later step names its rebuilt parent', async () => {
    await writeFile(join(ctx, 'layer2'), 'layer 2, edited again\n');
    const meta = join(env.dir, 'metadata.json');
    const r = await env.run(['build', '--progress=plain', '--metadata-file', meta, '-t', 'layer', ctx]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`first cache miss: ${steps[3]}: layer2 changed\n`);
    const m = JSON.parse(await readFile(meta, 'utf8')) as { 'tsbuild.steps': { name: string; outcome: string; cacheMiss?: string }[] };
    const why = new Map(m['tsbuild.steps'].map((st) => [st.name, [st.outcome, st.cacheMiss]]));
    expect(steps.map((st) => why.get(st))).toEqual([
      ['cached', undefined],
      ['cached', undefined],
      ['cached', undefined],
      ['executed', 'layer2 changed'],
      ['executed', 'parent step rebuilt (COPY layer2 /data/layer)'],
      ['executed', 'parent step rebuilt (COPY layer3 /data/layer)'],
    ]);
    // Nothing changed since: no miss, so no miss line.
    const again = await env.run(['build', '--progress=plain', '-t', 'layer', ctx]);
    expect(again.stderr).toContain('steps: 6 total, 6 cached, 0 executed');
    expect(again.stderr).not.toContain('first cache miss');
  });
});
