/**
 * WORKDIR of a directory the image already has commits its (empty) layer without an overlay mount
 * (src/worker/ops/mkdir-existing.ts), through the real CLI, overlay and runc. A step that mounted
 * leaves the kernel's `work/work` in its snapshot; one that did not has none. Anything that is not
 * provably an existing directory — a symlink on the path, a name a later layer whited out, a name
 * under a directory a later layer made opaque, an owner given by name — still runs mounted, and
 * does what it did (the RUN at the end checks the directories).
 */
import { expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EMPTY_TAR_DIFF_ID } from '../../../src/exporter/image-assemble.js';
import { describeBuilds, useBuildEnv, BASE } from '../../helpers/build-env.js';

interface Inspected {
  readonly RootFS: { readonly Layers: readonly string[] };
  readonly GraphDriver: { readonly Data: { readonly UpperDir: string; readonly LowerDir?: string } };
}

describeBuilds('WORKDIR of an existing directory', () => {
  const env = useBuildEnv();

  test('only an existing directory reached without symlinks skips the mount; the layers are as before', async () => {
    const ctx = await env.context('workdir', {
      Dockerfile: [
        `FROM ${BASE}`,
        'RUN mkdir -p /a/b /gone /opq/keep /u && ln -s /a /link',
        'RUN rm -rf /gone /opq && mkdir /opq && touch /opq/new',
        'WORKDIR /a/b',
        'WORKDIR /link/b',
        'WORKDIR /gone',
        'WORKDIR /opq/keep',
        'WORKDIR ../../a/./b/',
        'USER nobody',
        'WORKDIR /u',
        'RUN test -d /gone && test -d /opq/keep && test -e /opq/new && test "$(pwd)" = /u',
        '',
      ].join('\n'),
    });
    const r = await env.run(['build', '--progress=plain', '-t', 'workdir:existing', ctx]);
    expect(r.code).toBe(0);
    const [img] = JSON.parse((await env.run(['inspect', 'workdir:existing'])).stdout) as Inspected[];
    if (!img) throw new Error('no image');
    // Top first: the last RUN, then the WORKDIRs in reverse order.
    const diffs = [img.GraphDriver.Data.UpperDir, ...(img.GraphDriver.Data.LowerDir?.split(':') ?? [])];
    const mounted = diffs.slice(0, 7).map((d) => existsSync(join(dirname(d), 'work', 'work')));
    expect(mounted).toEqual([
      true, // RUN test …
      true, // WORKDIR /u as nobody: the owner is looked up by name
      false, // WORKDIR ../../a/./b/ (/a/b)
      true, // WORKDIR /opq/keep: /opq is opaque in the layer above the one that has keep
      true, // WORKDIR /gone: whited out
      true, // WORKDIR /link/b: a symlink on the path
      false, // WORKDIR /a/b
    ]);
    // The WORKDIRs' layers, top first: empty unless the directory had to be made.
    const empty = [...img.RootFS.Layers].reverse().slice(1, 7).map((l) => l === EMPTY_TAR_DIFF_ID);
    expect(empty).toEqual([true, true, false, false, true, true]);
  }, 300_000);
});
