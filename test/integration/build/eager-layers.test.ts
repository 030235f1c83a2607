/**
 * Layer blobs made while the build runs (src/engine/eager-layers.ts), through the real CLI, overlay
 * and runc: a COPY's layer blob of a build that exports to the image store is in the content store
 * before the RUN after it has finished (its file was born then), so "exporting to image" does not
 * diff it; with SOURCE_DATE_EPOCH it is made by the export, after the RUN; and a layer of a stage
 * the image does not contain is never made; dozens of jobs at once raise no listener warning.
 */
import { expect, test } from '@jest/globals';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBuilds, useBuildEnv, BASE } from '../../helpers/build-env.js';

interface RawVertex {
  readonly type?: string;
  readonly name?: string;
  readonly state?: string;
  readonly timestamp?: number;
}

/** When the vertex whose name ends with `suffix` completed, from `--progress=rawjson` output. */
function completedAt(rawjson: string, suffix: string): number {
  for (const line of rawjson.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as RawVertex;
    if (e.type === 'vertex' && e.state === 'completed' && e.name?.endsWith(suffix) && e.timestamp !== undefined) return e.timestamp;
  }
  throw new Error(`no completed vertex "${suffix}" in:\n${rawjson}`);
}

const files = (prefix: string, n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}/marker-${i}`, `${prefix} ${i}\n`]));

describeBuilds('layer blobs made while the build runs', () => {
  const env = useBuildEnv();
  const blobDir = (): string => join(env.root, 'content', 'blobs', 'sha256');

  /** Builds `ctx` with rawjson progress; the COPY layer's blob birth time and the RUN's end. */
  const timeline = async (ctx: string, tag: string, extra: readonly string[] = []): Promise<{ copyBlobBorn: number; runDone: number }> => {
    const r = await env.run(['build', '--progress=rawjson', ...extra, '-t', tag, ctx]);
    expect(r.code).toBe(0);
    const inspected = JSON.parse((await env.run(['inspect', tag])).stdout) as { RootFS: { Layers: string[] } }[];
    // The image store keeps a build's own layers uncompressed: the blob's digest is the diff_id.
    const copyLayer = inspected[0]?.RootFS.Layers[1] as string;
    const born = (await stat(join(blobDir(), copyLayer.replace('sha256:', '')))).birthtimeMs;
    return { copyBlobBorn: born, runDone: completedAt(r.stderr, 'RUN sleep 1') };
  };

  test('a COPY layer\'s blob is made before the RUN after it ends; with SOURCE_DATE_EPOCH only by the export', async () => {
    const ctx = await env.context('eager', {
      ...files('data', 300),
      Dockerfile: `FROM ${BASE}\nCOPY data/ /data/\nRUN sleep 1\n`,
    });
    const early = await timeline(ctx, 'eager:early');
    expect(early.copyBlobBorn).toBeLessThan(early.runDone);

    const late = await timeline(ctx, 'eager:epoch', ['--no-cache', '--build-arg', 'SOURCE_DATE_EPOCH=1640995200']);
    expect(late.copyBlobBorn).toBeGreaterThanOrEqual(late.runDone);
  }, 300_000);

  test('a stage the image does not contain gets no layer blob', async () => {
    const ctx = await env.context('stages', {
      ...files('other', 50),
      Dockerfile: `FROM ${BASE} AS b\nCOPY other/ /o/\nRUN sleep 1\nFROM ${BASE}\nCOPY --from=b /o /p\n`,
    });
    const r = await env.run(['build', '--progress=plain', '-t', 'eager:stages', ctx]);
    expect(r.code).toBe(0);
    const withPath = async (path: string): Promise<number> => {
      let n = 0;
      for (const f of await readdir(blobDir())) if ((await readFile(join(blobDir(), f))).includes(Buffer.from(path))) n++;
      return n;
    };
    // The final COPY's layer (p/…) is in the store; stage b's (o/…) never was.
    expect(await withPath('p/marker-7')).toBe(1);
    expect(await withPath('o/marker-7')).toBe(0);
  }, 300_000);

  test('a build of 60 steps has no MaxListenersExceededWarning (its layers\' jobs share one signal)', async () => {
    // Dozens of layers commit between two quiet moments, and each running job listens on the
    // build's signal until it ends; Node warned of a leak from the 11th on.
    const n = 60;
    const ctx = await env.context('many-steps', {
      ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, `${i}\n`])),
      Dockerfile: `FROM ${BASE}\n${Array.from({ length: n }, (_, i) => `COPY f${i} /d/f${i}\n`).join('')}`,
    });
    const r = await env.run(['build', '--progress=plain', '-t', 'eager:many', ctx]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning|Warning: Possible/);
    const inspected = JSON.parse((await env.run(['inspect', 'eager:many'])).stdout) as { RootFS: { Layers: string[] } }[];
    expect(inspected[0]?.RootFS.Layers).toHaveLength(n + 1);
  }, 300_000);
});
