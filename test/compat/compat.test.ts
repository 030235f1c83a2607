/**
 * The Docker compatibility suite (issue 5): every compare case is built by Docker 20.10 (BuildKit
 * on, --network=host, a private dockerd) and by tsbuild's CLI from the same base image and the same
 * context; the flattened filesystems and the image configs must be equal (docs/compat.md lists the
 * few normalised differences). tsbuild-only cases are checked against their expectations.
 *
 * Needs root, dockerd and a built CLI (`npm run build`). COMPAT_CASES=a,b limits the cases;
 * COMPAT_DUMP_DIR=DIR writes each side's result as JSON; COMPAT_REPORT=FILE writes the summary.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../helpers/busybox.js';
import { dockerdMissingWhy, haveDockerd, startDockerd } from '../helpers/dockerd.js';
import type { Dockerd } from '../helpers/dockerd.js';
import { describeIf } from '../helpers/skip.js';
import { loadCases } from './harness/cases.js';
import { comparableImage, compareFs, compareImages, formatConfigDifferences, formatFsDifferences, mountStubPaths } from './harness/compare.js';
import { DockerBuilder } from './harness/docker-side.js';
import { dumpBuilt } from './harness/dump.js';
import { checkExpectations } from './harness/expectations.js';
import { ContextPool, makeBaseTar, SideRunner } from './harness/suite.js';
import { TsbuildBuilder } from './harness/tsbuild-side.js';
import type { BuiltImage } from './harness/types.js';

const only = process.env['COMPAT_CASES']?.split(',').map((s) => s.trim()).filter(Boolean);
const all = loadCases();
const byName = new Map(all.map((c) => [c.name, c]));
const selected = only ? all.filter((c) => only.includes(c.name)) : all;
const compareCases = selected.filter((c) => c.mode === 'compare');
const tsbuildOnly = selected.filter((c) => c.mode === 'tsbuild-only');
const needed = new Set(all.flatMap((c) => c.needs));

interface Row {
  readonly name: string;
  readonly outcome: 'equal' | 'different' | 'failed';
  readonly dockerLayers?: number;
  readonly tsbuildLayers?: number;
  readonly dockerMs?: number;
  readonly tsbuildMs?: number;
}
const rows: Row[] = [];

function failure(side: string, r: PromiseSettledResult<BuiltImage>): string | undefined {
  return r.status === 'rejected' ? `${side} build failed: ${(r.reason as Error).message ?? String(r.reason)}` : undefined;
}

describeIf(haveDockerd && haveBusybox, haveBusybox ? dockerdMissingWhy : 'needs busybox-static', 'Docker 20.10 and tsbuild build the same images', () => {
  let dockerd: Dockerd;
  let base: Awaited<ReturnType<typeof makeBaseTar>>;
  let docker: SideRunner;
  let tsbuild: SideRunner;
  let dockerBuilder: DockerBuilder;
  let tsbuildBuilder: TsbuildBuilder;
  /** tsbuild's base image import; a failure is reported by every case rather than aborting the file. */
  let tsbuildReady: Promise<void>;
  const contexts = new ContextPool();

  beforeAll(async () => {
    base = await makeBaseTar();
    dockerd = await startDockerd();
    dockerBuilder = new DockerBuilder({ dockerd, baseTar: base.file });
    tsbuildBuilder = new TsbuildBuilder({ baseTar: base.file, storeImages: needed });
    await dockerBuilder.init();
    tsbuildReady = tsbuildBuilder.init();
    tsbuildReady.catch(() => undefined);
    docker = new SideRunner(dockerBuilder, byName, contexts);
    tsbuild = new SideRunner(tsbuildBuilder, byName, contexts);
  }, 180_000);

  afterAll(async () => {
    await contexts.cleanup();
    await tsbuildBuilder?.close();
    await dockerBuilder?.close();
    await dockerd?.stop();
    await base?.cleanup();
    if (rows.length === 0) return;
    const lines = [
      `compat: ${rows.filter((r) => r.outcome === 'equal').length}/${rows.length} cases equal`,
      ...rows.map((r) => `  ${r.name.padEnd(30)} ${r.outcome.padEnd(9)} layers docker=${r.dockerLayers ?? '-'} tsbuild=${r.tsbuildLayers ?? '-'}  ms docker=${r.dockerMs ?? '-'} tsbuild=${r.tsbuildMs ?? '-'}`),
    ];
    process.stderr.write(`${lines.join('\n')}\n`);
    const report = process.env['COMPAT_REPORT'];
    if (report) await writeFile(report, `${JSON.stringify(rows, null, 2)}\n`);
  }, 180_000);

  const runTsbuildSide = async (name: string): Promise<BuiltImage> => {
    await tsbuildReady;
    return tsbuild.ensure(name);
  };

  if (compareCases.length > 0) test.each(compareCases.map((c) => [c.name, c] as const))('%s', async (_name, spec) => {
    // Both builds at once: one process each, the machine's two cores.
    const [d, t] = await Promise.allSettled([docker.ensure(spec.name), runTsbuildSide(spec.name)]);
    const failures = [failure('docker', d), failure('tsbuild', t)].filter((x): x is string => x !== undefined);
    if (d.status === 'fulfilled') await dumpBuilt(d.value);
    if (t.status === 'fulfilled') await dumpBuilt(t.value);
    if (d.status === 'rejected' || t.status === 'rejected') {
      rows.push({ name: spec.name, outcome: 'failed', ...(d.status === 'fulfilled' ? { dockerMs: d.value.buildMs } : {}) });
      throw new Error(failures.join('\n\n'));
    }
    const di = comparableImage(d.value.archive, d.value.flat);
    const ti = comparableImage(t.value.archive, t.value.flat);
    const labels = ['docker', 'tsbuild'] as const;
    const report = [
      formatFsDifferences(compareFs(d.value.flat.fs, t.value.flat.fs, { mountStubs: mountStubPaths(readFileSync(join(spec.dir, 'Dockerfile'), 'utf8')) }), labels),
      formatConfigDifferences(compareImages(di, ti), labels),
      ...checkExpectations(spec.expect, t.value.flat).map((x) => `tsbuild: ${x}`),
      ...checkExpectations(spec.expect, d.value.flat).map((x) => `docker: ${x}`),
    ].filter(Boolean).join('\n');
    rows.push({
      name: spec.name,
      outcome: report === '' ? 'equal' : 'different',
      dockerLayers: di.rawLayers,
      tsbuildLayers: ti.rawLayers,
      dockerMs: d.value.buildMs,
      tsbuildMs: t.value.buildMs,
    });
    expect(report).toBe('');
  }, 600_000);

  if (tsbuildOnly.length > 0) test.each(tsbuildOnly.map((c) => [c.name, c] as const))('tsbuild-only %s', async (_name, spec) => {
    const t = await runTsbuildSide(spec.name);
    await dumpBuilt(t);
    expect(checkExpectations(spec.expect, t.flat).join('\n')).toBe('');
  }, 600_000);
});
