/**
 * The Docker half of the compatibility suite, on its own: every compare case must build with Docker
 * 20.10 and show its expectations; Docker's own `docker export` of the image must equal our
 * flattening of its layers (an independent check of the flattener on real layers); a second
 * --no-cache build must compare equal to the first (the case is deterministic, so a tsbuild
 * difference is never noise). Every tsbuild-only case must really be beyond Docker 20.10.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { haveBusybox } from '../helpers/busybox.js';
import { dockerdMissingWhy, haveDockerd, startDockerd } from '../helpers/dockerd.js';
import type { Dockerd } from '../helpers/dockerd.js';
import { describeIf } from '../helpers/skip.js';
import { loadCases } from './harness/cases.js';
import { comparableImage, compareFs, compareImages, formatConfigDifferences, formatFsDifferences } from './harness/compare.js';
import { DockerBuilder } from './harness/docker-side.js';
import { dumpBuilt } from './harness/dump.js';
import { checkExpectations } from './harness/expectations.js';
import { ContextPool, makeBaseTar, SideRunner } from './harness/suite.js';

const only = process.env['COMPAT_CASES']?.split(',').map((s) => s.trim()).filter(Boolean);
const cases = loadCases();
const byName = new Map(cases.map((c) => [c.name, c]));
const selected = only ? cases.filter((c) => only.includes(c.name)) : cases;
const compareCases = selected.filter((c) => c.mode === 'compare');
const tsbuildOnly = selected.filter((c) => c.mode === 'tsbuild-only');

/** What `docker export` adds that is not in the image: the container's init layer and mount points. */
function runtimeOnly(path: string, volumes: readonly string[]): boolean {
  if (['/.dockerenv', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab'].includes(path)) return true;
  if (/^\/(dev|proc|sys)\//.test(path)) return true;
  return volumes.some((v) => path === v || path.startsWith(`${v}/`));
}

const timings: { name: string; ms: number; layers: number; rawLayers: number }[] = [];

describeIf(haveDockerd && haveBusybox, haveBusybox ? dockerdMissingWhy : 'needs busybox-static', 'Docker 20.10 builds every compat case', () => {
  let dockerd: Dockerd;
  let base: Awaited<ReturnType<typeof makeBaseTar>>;
  let builder: DockerBuilder;
  let runner: SideRunner;
  const contexts = new ContextPool();

  beforeAll(async () => {
    base = await makeBaseTar();
    dockerd = await startDockerd();
    builder = new DockerBuilder({ dockerd, baseTar: base.file });
    await builder.init();
    runner = new SideRunner(builder, byName, contexts);
  }, 120_000);

  afterAll(async () => {
    await contexts.cleanup();
    await builder?.close();
    await dockerd?.stop();
    await base?.cleanup();
    if (timings.length > 0) {
      const total = timings.reduce((s, t) => s + t.ms, 0);
      process.stderr.write(`docker half: ${timings.length} cases in ${(total / 1000).toFixed(1)} s of builds\n${timings.map((t) => `  ${t.name.padEnd(30)} ${String(t.ms).padStart(6)} ms  layers ${t.layers} (${t.rawLayers} in the archive)`).join('\n')}\n`);
    }
  }, 120_000);

  if (compareCases.length > 0) test.each(compareCases.map((c) => [c.name, c] as const))('%s', async (_name, spec) => {
    const built = await runner.ensure(spec.name);
    await dumpBuilt(built);
    const img = comparableImage(built.archive, built.flat);
    timings.push({ name: spec.name, ms: built.buildMs, layers: img.layers, rawLayers: img.rawLayers });
    const problems = [...checkExpectations(spec.expect, built.flat), ...img.problems];

    // Docker's own flattening of the same image.
    const exported = await builder.exportFilesystem(spec.name);
    const volumes = Object.keys(built.archive.config.config?.Volumes ?? {});
    const exportDiff = compareFs(built.flat.fs, exported.fs, { ignore: (p) => runtimeOnly(p, volumes) });
    if (exportDiff.length > 0) problems.push(`our flattening differs from docker export:\n${formatFsDifferences(exportDiff, ['layers', 'export'])}`);

    // An independent rebuild must compare equal: the case is deterministic. Docker 20.10's overlay
    // differ now and then leaves out of a step's layer a base-image file the step hard-linked (its
    // copy-up looks unchanged to the double-walk differ), so only that link group differs (once in
    // 16 CI runs, hardlinks-run: /bin/busybox and /bb-hardlink). Such a rebuild is made once more,
    // and must then compare equal.
    let again = await builder.build(await contexts.get(spec), { noCache: true });
    let fsDiff = compareFs(built.flat.fs, again.flat.fs);
    if (fsDiff.length > 0 && fsDiff.every((d) => d.fields.length === 1 && d.fields[0] === 'hardlinks')) {
      again = await builder.build(await contexts.get(spec), { noCache: true });
      fsDiff = compareFs(built.flat.fs, again.flat.fs);
    }
    const cfgDiff = compareImages(img, comparableImage(again.archive, again.flat));
    if (fsDiff.length > 0) problems.push(`not deterministic (filesystem):\n${formatFsDifferences(fsDiff, ['first', 'second'])}`);
    if (cfgDiff.length > 0) problems.push(`not deterministic (config):\n${formatConfigDifferences(cfgDiff, ['first', 'second'])}`);
    expect(problems.join('\n')).toBe('');
  }, 300_000);

  if (tsbuildOnly.length > 0) test.each(tsbuildOnly.map((c) => [c.name, c] as const))('tsbuild-only %s is beyond Docker 20.10', async (_name, spec) => {
    let outcome: string;
    try {
      const built = await builder.build(await contexts.get(spec));
      const unmet = checkExpectations(spec.expect, built.flat);
      outcome = unmet.length > 0 ? `built, but: ${unmet[0] as string}` : 'built and met every expectation';
    } catch (e) {
      outcome = `failed: ${(e as Error).message.split('\n').find((l) => /error|failed/i.test(l)) ?? (e as Error).message}`;
    }
    // If Docker 20.10 ever builds it as specified, the case belongs in the compare suite; and it
    // must fail for the reason the case gives, not because Docker itself is broken.
    expect(outcome).not.toBe('built and met every expectation');
    expect(outcome).toMatch(new RegExp(spec.dockerOutcome ?? '(no dockerOutcome in case.json)'));
  }, 300_000);
});
