/**
 * Independent stages run at the same time; RUN --mount=type=cache persists across builds; a build
 * of 300 RUN instructions (Docker's overlay2 stops near 127 layers) succeeds.
 */
import { expect, test } from '@jest/globals';
import { describeBuilds, useBuildEnv, rawVertices } from '../../helpers/build-env.js';

describeBuilds('solver with real stages', () => {
  const env = useBuildEnv();

  test('two independent stages each running sleep 2 run concurrently', async () => {
    const ctx = await env.context('par', {
      Dockerfile: [
        'FROM localhost/busybox:latest AS a',
        'RUN sleep 2 && echo a > /a',
        'FROM localhost/busybox:latest AS b',
        'RUN sleep 2 && echo b > /b',
        'FROM localhost/busybox:latest',
        'COPY --from=a /a /a',
        'COPY --from=b /b /b',
        '',
      ].join('\n'),
    });
    const r = await env.run(['build', '--progress=rawjson', '--max-parallelism', '2', ctx]);
    expect(r.code).toBe(0);
    const vs = rawVertices(r.stderr);
    const a = vs.get('[a 2/2] RUN sleep 2 && echo a > /a');
    const b = vs.get('[b 2/2] RUN sleep 2 && echo b > /b');
    expect(a?.started).toBeDefined();
    expect(b?.started).toBeDefined();
    // Overlap: each started before the other completed.
    expect(a!.started!).toBeLessThan(b!.completed!);
    expect(b!.started!).toBeLessThan(a!.completed!);
    // Together they took about one sleep, not two.
    const span = Math.max(a!.completed!, b!.completed!) - Math.min(a!.started!, b!.started!);
    expect(span).toBeLessThan(2 * 2000);
  });

  test('RUN --mount=type=cache sees what the previous build wrote there', async () => {
    const dockerfile = (n: number): string =>
      ['FROM localhost/busybox:latest', `RUN --mount=type=cache,target=/cache echo build${n} >> /cache/log && cat /cache/log && test ! -e /cache-leak`, ''].join('\n');
    const ctx1 = await env.context('cache1', { Dockerfile: dockerfile(1) });
    const ctx2 = await env.context('cache2', { Dockerfile: dockerfile(2) });
    const r1 = await env.run(['build', '--progress=plain', ctx1]);
    expect(r1.code).toBe(0);
    const r2 = await env.run(['build', '--progress=plain', ctx2]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/build1\n(#\d+ [\d.]+ )?build2/);
  });

  test('a build with 300 RUN instructions succeeds', async () => {
    const lines = ['FROM localhost/busybox:latest'];
    for (let i = 1; i <= 300; i++) lines.push(`RUN echo ${i} > /f${i}`);
    lines.push('RUN test "$(cat /f1)" = 1 && test "$(cat /f300)" = 300 && ls / | grep -c "^f" | grep -qx 300');
    const ctx = await env.context('deep', { Dockerfile: `${lines.join('\n')}\n` });
    // Correctness, not speed (bench/ measures that): ~0.3 s per RUN on a quiet machine, several
    // times that beside the other test workers.
    const r = await env.run(['build', '--progress=quiet', '-o', `type=docker,dest=${env.dir}/deep.tar`, ctx], { timeoutMs: 600_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 600_000);
});
