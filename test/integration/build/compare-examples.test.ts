/**
 * Issue 13, `tsbuild compare` on the seed's examples (examples/split and examples/single over the
 * examples/split context), through the real CLI. Checked against the store and a registry rather
 * than against itself:
 * - the JSON validates against docs/report-schema.json, and so does `tsbuild report --format json`;
 * - the steps of each cold build are what a plain `tsbuild build` of the variant records (its layers
 *   the same within a few bytes: a gzip of random bytes varies), and the layer sizes are the
 *   store's: `tsbuild history` and `inspect` of the very image compare built, loaded from the
 *   archive --oci-dir kept;
 * - the trade-off, as it really is: after the package.json scenario split re-runs 5 small steps of
 *   14 (the COPY and everything after it) and single 3 of 5, but single's 3 include the one big
 *   RUN, so split's time-weighted hit ratio is far higher and its push much smaller; cold, single
 *   ships the smaller image (nothing it deletes ships) and wastes nothing;
 * - the bytes compare says a push sends are the sizes of the blobs the test registry lacks (by
 *   blob HEAD) after pushing the cold image, when the rebuilt one is pushed.
 */
import { expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { repoRoot } from '../../helpers/paths.js';
import { haveRegistry, registryMissingWhy, startRegistry } from '../../helpers/registry.js';
import { testIf } from '../../helpers/skip.js';
import { reportSchemaErrors } from '../../helpers/report-schema.js';
import type { CompareReport, CompareVariant } from '../../../src/report/compare-types.js';

const SPLIT = 'examples/split/Dockerfile';
const SINGLE = 'examples/single/Dockerfile';

interface Blob {
  readonly digest: string;
  readonly size: number;
}

/** The config and layer blobs of the image in an OCI archive. */
function archiveBlobs(file: string): Blob[] {
  const read = (name: string): string => execFileSync('tar', ['-xOf', file, name], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const index = JSON.parse(read('index.json')) as { manifests: Blob[] };
  const top = index.manifests[0] as Blob;
  const manifest = JSON.parse(read(`blobs/${top.digest.replace(':', '/')}`)) as { config: Blob; layers: Blob[] };
  return [manifest.config, ...manifest.layers].map((b) => ({ digest: b.digest, size: b.size }));
}

describeBuilds('tsbuild compare on examples/split and examples/single', () => {
  const env = useBuildEnv();
  let report: CompareReport;
  const oci = (): string => join(env.dir, 'oci');
  const variant = (name: string): CompareVariant => {
    const v = report.variants.find((x) => x.name === name);
    if (!v) throw new Error(`no variant ${name}`);
    return v;
  };
  const scenarioOf = (files: readonly string[]): number => report.scenarios.findIndex((s) => JSON.stringify(s.files) === JSON.stringify(files));

  test('the JSON: valid, consistent with the store, and the split/single trade-off', async () => {
    const out = join(env.dir, 'compare.json');
    const r = await env.run(['compare', '-f', SPLIT, '-f', SINGLE, '--format', 'json', '-o', out, '--oci-dir', oci(), 'examples/split'], { cwd: repoRoot, timeoutMs: 1_200_000 });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    report = JSON.parse(await readFile(out, 'utf8')) as CompareReport;
    expect(reportSchemaErrors('CompareReport', report)).toEqual([]);
    expect(report.variants.map((v) => [v.name, v.dockerfile])).toEqual([['split', SPLIT], ['single', SINGLE]]);
    // One scenario per distinct set of files a COPY reads, split's steps first.
    expect(report.scenarios.map((s) => s.files)).toEqual([['tools/npm-install', 'tools/pkg'], ['big-file.sh'], ['package.json'], ['big-file.sh', 'package.json']]);
    expect(report.scenarios[2]?.description).toBe('touch package.json');

    for (const v of report.variants) {
      // A plain build of the variant in the test's store records the same steps (--no-cache: the
      // variants share their first steps, and compare builds each in its own store).
      expect((await env.run(['build', '-q', '--no-cache', '-t', v.name, '-f', v.dockerfile, 'examples/split'], { cwd: repoRoot, timeoutMs: 600_000 })).code).toBe(0);
      const rep = await env.run(['report', '--format', 'json']);
      expect(rep.code).toBe(0);
      const built = JSON.parse(rep.stdout) as { stepsTotal: number; stepsExecuted: number; layers: { size: number; wastedBytes: number }[] };
      expect(reportSchemaErrors('BuildReport', built)).toEqual([]);
      expect(v.cold).toMatchObject({ stepsTotal: built.stepsTotal, stepsExecuted: built.stepsExecuted, stepsCached: 0 });
      // Layer by layer the same files; only a gzip of random bytes (big-file.tar.gz) may differ by a few bytes.
      expect(v.layers).toHaveLength(built.layers.length);
      v.layers.forEach((l, i) => expect(Math.abs(l.size - (built.layers[i]?.size ?? -1))).toBeLessThan(64));

      // The image compare built, in the store: its history's layer sizes (bottom first; CMD has no layer).
      const load = await env.run(['load', '-i', join(oci(), `${v.name}-cold.tar`)]);
      expect(load.code).toBe(0);
      const name = /Loaded image: (\S+)/.exec(load.stdout)?.[1] ?? '';
      const rows = (await env.run(['history', '--no-trunc', '--human=false', '--format', 'json', name])).stdout.trim().split('\n')
        .map((l) => JSON.parse(l) as { CreatedBy: string; Size: string }).filter((row) => !row.CreatedBy.startsWith('CMD ')).reverse();
      expect(rows.map((row) => Number(row.Size))).toEqual(v.layers.map((l) => l.size));
      const inspect = JSON.parse((await env.run(['inspect', name])).stdout) as { RootFS: { Layers: string[] }; Size: number }[];
      expect(inspect[0]?.RootFS.Layers).toHaveLength(v.layers.length);
      expect(inspect[0]?.Size).toBe(v.uncompressedSize);
      // Compressed sizes are the archive's blobs.
      expect(v.layers.map((l) => l.compressedSize)).toEqual(archiveBlobs(join(oci(), `${v.name}-cold.tar`)).slice(1).map((b) => b.size));

      expect(v.imageSize).toBe(v.layers.reduce((n, l) => n + l.compressedSize, 0));
      expect(v.wastedBytes).toBe(v.layers.reduce((n, l) => n + l.wastedBytes, 0));
      for (const b of v.rebuilds) expect(b.run.stepsCached + b.run.stepsExecuted).toBe(b.run.stepsTotal);
    }

    const split = variant('split');
    const single = variant('single');
    expect(split.cold.stepsTotal).toBe(14);
    expect(single.cold.stepsTotal).toBe(5);
    // Cold: single ships smaller and wastes nothing; split ships the 16 MiB archive it deletes later.
    expect(single.imageSize).toBeLessThan(split.imageSize);
    expect(single.wastedBytes).toBe(0);
    expect(split.wastedBytes).toBeGreaterThan(16 * 1024 * 1024);

    const pkg = scenarioOf(['package.json']);
    const s = split.rebuilds[pkg];
    const g = single.rebuilds[pkg];
    expect(s?.run).toMatchObject({ stepsCached: 9, stepsExecuted: 5 });
    expect(g?.run).toMatchObject({ stepsCached: 2, stepsExecuted: 3 });
    expect(s?.missReasons[0]).toBe('COPY package.json /code/: package.json changed');
    expect(g?.missReasons[0]).toBe('COPY package.json big-file.sh /code/: package.json changed');
    expect(g?.missReasons.some((m) => m.startsWith('RUN set -ex'))).toBe(true);
    expect(s?.run.hitRatio).toBeGreaterThan(0.5);
    expect(s?.run.hitRatio).toBeGreaterThan(g?.run.hitRatio ?? 1);
    expect(s?.pushBytes).toBeLessThan(2 * 1024 * 1024);
    expect(g?.pushBytes).toBeGreaterThan(16 * 1024 * 1024);
  }, 1_800_000);

  testIf(haveRegistry, registryMissingWhy, 'bytes to push: the blobs the registry lacks after it holds the cold image', async () => {
    expect(report).toBeDefined();
    const reg = await startRegistry();
    try {
      const pkg = report.scenarios[scenarioOf(['package.json'])]?.id ?? '';
      for (const v of report.variants) {
        const push = async (archive: string, tag: string): Promise<void> => {
          const load = await env.run(['load', '-i', archive]);
          expect(load.code).toBe(0);
          const name = /Loaded image: (\S+)/.exec(load.stdout)?.[1] ?? '';
          expect((await env.run(['tag', name, `${reg.host}/${v.name}:${tag}`])).code).toBe(0);
          const p = await env.run(['push', `${reg.host}/${v.name}:${tag}`]);
          expect(p.stderr).toBe('');
          expect(p.code).toBe(0);
        };
        const missing = async (blobs: readonly Blob[]): Promise<Blob[]> => {
          const out: Blob[] = [];
          for (const b of blobs) {
            const res = await fetch(`${reg.url}/v2/${v.name}/blobs/${b.digest}`, { method: 'HEAD' });
            if (res.status === 404) out.push(b);
            else expect(res.status).toBe(200);
          }
          return out;
        };
        await push(join(oci(), `${v.name}-cold.tar`), '1');
        const rebuilt = join(oci(), `${v.name}-${pkg}.tar`);
        const lacking = await missing(archiveBlobs(rebuilt));
        const said = v.rebuilds[scenarioOf(['package.json'])]?.pushBytes;
        expect(lacking.reduce((n, b) => n + b.size, 0)).toBe(said);
        await push(rebuilt, '2');
        expect(await missing(archiveBlobs(rebuilt))).toEqual([]);
      }
    } finally {
      await reg.stop();
    }
  }, 600_000);
});
