/**
 * An image deeper than Docker's overlay2 can run (125 layers) builds here (tsbuild mounts up to the
 * kernel's 500 lower directories), but the build warns, naming who will refuse it and how to get
 * under the limit; at the limit nothing is said, and a filesystem output is no image to warn about.
 */
import { expect, test } from '@jest/globals';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { DOCKER_MAX_LAYERS } from '../../../src/engine/layer-limit.js';

/** A Dockerfile giving FROM's one busybox layer plus `copies` one-file COPY layers. */
function deep(copies: number): Record<string, string> {
  const files: Record<string, string> = {};
  const lines = ['FROM localhost/busybox:latest'];
  for (let i = 0; i < copies; i++) {
    files[`f${i}`] = `${i}\n`;
    lines.push(`COPY f${i} /f${i}`);
  }
  return { ...files, Dockerfile: `${lines.join('\n')}\n` };
}

describeBuilds('the layer-count warning', () => {
  const env = useBuildEnv();

  test(`an image of ${DOCKER_MAX_LAYERS + 1} layers warns; one of ${DOCKER_MAX_LAYERS} does not`, async () => {
    const over = await env.context('over', deep(DOCKER_MAX_LAYERS));
    const r = await env.run(['build', '--progress=plain', '-t', 'deep:over', over], { timeoutMs: 240_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`the image has ${DOCKER_MAX_LAYERS + 1} layers, more than the ${DOCKER_MAX_LAYERS} Docker's overlay2 storage driver can run`);
    expect(r.stderr).toContain('max depth exceeded');
    expect(r.stderr).toContain('COPY --from=<build stage> / /');
    const inspect = JSON.parse((await env.run(['inspect', 'deep:over'])).stdout) as Array<{ RootFS: { Layers: string[] } }>;
    expect(inspect[0]?.RootFS.Layers).toHaveLength(DOCKER_MAX_LAYERS + 1);

    // A filesystem output is not an image anyone runs; the steps are cached, so this is quick.
    const local = await env.run(['build', '--progress=plain', '-o', `type=tar,dest=${env.dir}/fs.tar`, over]);
    expect(local.code).toBe(0);
    expect(local.stderr).not.toContain('layers, more than');

    const at = await env.context('at', deep(DOCKER_MAX_LAYERS - 1));
    const ok = await env.run(['build', '--progress=plain', '-t', 'deep:at', at], { timeoutMs: 240_000 });
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toContain('layers, more than');
  }, 600_000);
});
