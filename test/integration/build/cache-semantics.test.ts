/**
 * Cache keys through the real CLI: an ARG change invalidates the first RUN that sees it and not the
 * steps before; --no-cache re-runs everything; --no-cache-filter re-runs one stage's steps only.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { describeIf, isRoot, haveBinary } from '../../helpers/skip.js';
import { makeBuildEnv, mountsUnder, rawVertices, type BuildEnv } from '../../helpers/build-env.js';

describeIf(isRoot && haveBinary('runc'), 'needs root and runc', 'cache semantics', () => {
  let env: BuildEnv;
  let ctx: string;
  beforeAll(async () => {
    env = await makeBuildEnv();
    ctx = await env.context('args', {
      Dockerfile: [
        'FROM localhost/busybox:latest AS base',
        'RUN echo base > /base',
        'ARG FLAVOR=plain',
        'RUN echo before-use > /before',
        'RUN echo "$FLAVOR" > /flavor',
        'RUN cat /flavor',
        'FROM localhost/busybox:latest',
        'COPY --from=base /flavor /flavor',
        'RUN echo final',
        '',
      ].join('\n'),
    });
  });
  afterAll(async () => {
    expect(await mountsUnder(env.dir)).toEqual([]);
    await env.cleanup();
  });

  const build = async (...flags: string[]): Promise<Map<string, boolean>> => {
    const r = await env.run(['build', '--progress=rawjson', ...flags, ctx]);
    expect(r.code).toBe(0);
    const out = new Map<string, boolean>();
    // Keyed by the `[stage i/n]` prefix: BuildKit (and tsbuild) show ARG values expanded in step names.
    for (const [name, v] of rawVertices(r.stderr)) if (/^\[/.test(name) && !name.startsWith('[internal]')) out.set(name.slice(0, name.indexOf(']') + 1), v.cached);
    return out;
  };

  test('an ARG change re-runs the first RUN that sees it and what follows, not earlier steps', async () => {
    await build('--build-arg', 'FLAVOR=a');
    const again = await build('--build-arg', 'FLAVOR=b');
    expect(again.get('[base 2/5]')).toBe(true);
    // ARG values in scope are part of every later RUN (as in BuildKit), used or not: the first RUN
    // after the ARG sees it.
    expect(again.get('[base 3/5]')).toBe(false);
    expect(again.get('[base 4/5]')).toBe(false);
    expect(again.get('[base 5/5]')).toBe(false);
    const same = await build('--build-arg', 'FLAVOR=b');
    expect([...same.values()].every((c) => c)).toBe(true);
  });

  test('--no-cache re-runs every step', async () => {
    const r = await build('--build-arg', 'FLAVOR=b', '--no-cache');
    expect([...r.entries()].filter(([n, c]) => c && !n.includes('FROM'))).toEqual([]);
  });

  test('--no-cache-filter re-runs only the named stage', async () => {
    const r = await build('--build-arg', 'FLAVOR=b', '--no-cache-filter', 'base');
    expect(r.get('[base 2/5]')).toBe(false);
    expect(r.get('[stage-1 3/3]')).toBe(true);
  });
});
