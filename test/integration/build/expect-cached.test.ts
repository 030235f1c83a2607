/**
 * Issue 13, "Cache expectations for CI", through the real CLI: `build --expect-cached` passes on a
 * rebuild served from the cache, and after a change fails at the first step that executes, naming it
 * and why it missed (the build history's reason); `--expect-cached=STEP` checks only the steps whose
 * instruction contains STEP. A failed expectation leaves no mount behind (useBuildEnv checks).
 */
import { expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE, describeBuilds, mountsUnder, useBuildEnv } from '../../helpers/build-env.js';

const DOCKERFILE = [
  `FROM ${BASE}`,
  'COPY a.txt /a.txt',
  'RUN cat /a.txt > /copy',
  'COPY b.txt /b.txt',
  '',
].join('\n');

describeBuilds('build --expect-cached', () => {
  const env = useBuildEnv();
  let ctx = '';
  const build = (extra: readonly string[]) => env.run(['build', '--progress=plain', ...extra, '-t', 'app', ctx]);

  test('a cached rebuild passes; a changed file fails at the first executed step, saying why', async () => {
    ctx = await env.context('app', { 'a.txt': 'a\n', 'b.txt': 'b\n', Dockerfile: DOCKERFILE });
    const first = await build([]);
    expect(first.code).toBe(0);

    const cached = await build(['--expect-cached']);
    expect(cached.stderr).not.toContain('ERROR');
    expect(cached.code).toBe(0);

    // Only b.txt changed: the check limited to the RUN step still passes.
    await writeFile(join(ctx, 'b.txt'), 'b2\n');
    const onlyRun = await build(['--expect-cached=RUN cat']);
    expect(onlyRun.code).toBe(0);

    await writeFile(join(ctx, 'a.txt'), 'a2\n');
    const failed = await build(['--expect-cached=COPY b.txt', '--expect-cached=RUN']);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toBe('error: expected a cached build, but step "RUN cat /a.txt > /copy" executed: parent step rebuilt (COPY a.txt /a.txt)');
    // It stopped there: the step after it never ran.
    expect(failed.stderr).not.toContain('COPY b.txt /b.txt\n#');

    // The failed build saved COPY a.txt before it stopped; change the file again.
    await writeFile(join(ctx, 'a.txt'), 'a3\n');
    const all = await build(['--expect-cached']);
    expect(all.code).toBe(1);
    expect(all.stderr.trim().split('\n').at(-1)).toBe('error: expected a cached build, but step "COPY a.txt /a.txt" executed: a.txt changed');
    expect(await mountsUnder(env.dir)).toEqual([]);
  }, 300_000);
});
