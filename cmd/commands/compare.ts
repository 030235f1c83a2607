/**
 * `tsbuild compare -f A -f B [--change CMD…] CONTEXT`: what each Dockerfile's layering costs and
 * saves. Every variant is built cold, then rebuilt after each change scenario (a copy of the
 * context changed: the files each step copies, touched; or the given commands); the report has per
 * variant its layers (uncompressed, compressed, wasted) and per scenario the rebuild's time, cache
 * hits, time-weighted hit ratio, miss reasons and the bytes a push or pull of the rebuilt image
 * moves when the other side holds the cold one. See docs/report.md; the data is CompareReport.
 */
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command, CommandContext } from '../cli/command.js';
import { flagList, flagString, keyValues } from '../cli/args.js';
import { assertNever, TsbuildError, UsageError, UserInputError } from '../../src/util/errors.js';
import type { BuildRequest, Client, DockerfileSource, PastBuild } from '../../src/client/types.js';
import { compareReport, type CompareBuild } from '../../src/report/compare-report.js';
import { commandScenarios, defaultScenarios } from '../../src/report/compare-scenarios.js';
import type { CompareReport, CompareScenario } from '../../src/report/compare-types.js';
import { renderCompareHtml } from '../../src/report/html/compare-html.js';
import { formatSeconds } from '../../src/progress/format.js';
import { REGISTRY_FLAGS, registryAccess } from './registry-flags.js';
import { readOciImage } from './compare-oci.js';
import { regularFiles, resetContext, runChange, touchFiles } from './compare-context.js';
import { openCompareStore, type CompareStore } from './compare-store.js';
import { renderCompare } from './compare-table.js';

type Format = 'table' | 'json' | 'html';

/** Builds read for the cold durations of cached steps (as `report`). */
const HISTORY_SCAN = 1000;

interface Variant {
  readonly name: string;
  /** As given on the command line. */
  readonly given: string;
  readonly dockerfile: DockerfileSource;
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Build Dockerfile variants cold and after changes: rebuild time, cache hits, image size, bytes to ship',
  usage: '-f DOCKERFILE -f DOCKERFILE [OPTIONS] CONTEXT',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'file', short: 'f', kind: 'list', placeholder: 'FILE', description: 'a Dockerfile variant (give two or more)' },
    { name: 'change', kind: 'list', placeholder: 'CMD', description: 'a change scenario: a shell command run in a copy of the context (default: touch the files each COPY/ADD step reads, one scenario per step)' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', default: 'table', choices: ['table', 'json', 'html'], description: 'output format' },
    { name: 'output', short: 'o', kind: 'string', placeholder: 'FILE', description: 'write the report to FILE instead of standard output' },
    { name: 'oci-dir', kind: 'string', placeholder: 'DIR', description: 'keep every image built as an OCI archive in DIR (VARIANT-cold.tar, VARIANT-SCENARIO.tar)' },
    { name: 'build-arg', kind: 'list', placeholder: 'KEY=VALUE', description: 'set a build-time variable (every variant)' },
    { name: 'target', kind: 'string', placeholder: 'STAGE', description: 'the build stage to build (every variant)' },
    { name: 'platform', kind: 'string', placeholder: 'PLATFORM', description: 'target platform (linux/amd64)' },
    ...REGISTRY_FLAGS,
  ],
  details: 'Embedded, every build runs in a scratch data root (removed afterwards) seeded with the base images\n'
    + 'of your store. Through tsbuildd the cold builds run with --no-cache in the daemon\'s store.\n'
    + '"touch" appends a byte: cache keys fingerprint content, not modification times.\n\n'
    + 'Example:\n  tsbuild compare -f examples/split/Dockerfile -f examples/single/Dockerfile examples/split',
  async run(ctx) {
    const a = ctx.args;
    const files = flagList(a, 'file');
    if (files.length < 2) throw new UsageError('compare: give at least two Dockerfiles with -f');
    const format = (flagString(a, 'format') ?? 'table') as Format;
    const platform = flagString(a, 'platform');
    const contextArg = a.positionals[0] as string;
    const contextDir = resolve(ctx.io.cwd, contextArg);
    if (!(await stat(contextDir).catch(() => undefined))?.isDirectory()) throw new UserInputError('CONTEXT_NOT_FOUND', `unable to prepare context: path "${contextArg}" not found`);
    const variants = await readVariants(ctx, files);
    const buildArgs = keyValues(flagList(a, 'build-arg'), 'build-arg', ctx.io.env);
    const sde = ctx.io.env['SOURCE_DATE_EPOCH'];
    if (sde !== undefined && !buildArgs.has('SOURCE_DATE_EPOCH')) buildArgs.set('SOURCE_DATE_EPOCH', sde);
    const target = flagString(a, 'target');
    const registry = registryAccess(a, ctx);

    const scratch = await mkdtemp(join(tmpdir(), 'tsbuild-compare-'));
    const work = join(scratch, 'context');
    try {
      await resetContext(contextDir, work);
      const base = (v: Variant): Omit<BuildRequest, 'tags' | 'outputs' | 'noCache'> => ({
        contextDir: work, dockerfile: v.dockerfile, buildArgs: Object.fromEntries(buildArgs), labels: {}, noCacheFilter: [], network: 'default', ssh: {}, registry,
        ...(target !== undefined ? { target } : {}), ...(platform !== undefined ? { platform } : {}),
      });
      const stores: CompareStore[] = [];
      let report: CompareReport;
      try {
        for (const v of variants) {
          const b = base(v);
          stores.push(await openCompareStore(ctx, { contextDir: b.contextDir, dockerfile: b.dockerfile, buildArgs: b.buildArgs, labels: b.labels, ...(target !== undefined ? { target } : {}), ...(platform !== undefined ? { platform } : {}) }));
        }
        const keep = flagString(a, 'oci-dir');
        const keepDir = keep === undefined ? undefined : resolve(ctx.io.cwd, keep);
        if (keepDir !== undefined) await mkdir(keepDir, { recursive: true });
        const runners = stores.map((st) => new Runner(ctx, st.client, scratch, keepDir));
        const cold: CompareBuild[] = [];
        for (const [n, v] of variants.entries()) cold.push(await runner(runners, n).build(v, 'cold', { ...base(v), noCache: stores[n]?.coldNoCache ?? true }));
        const changes = flagList(a, 'change');
        const scenarios: CompareScenario[] = changes.length > 0 ? commandScenarios(changes) : defaultScenarios(await Promise.all(cold.map(async (b) => {
          const steps = b.past.steps.filter((s) => s.stage !== '');
          return Promise.all(steps.map(async (s) => ({ instruction: s.instruction, files: await regularFiles(work, s.files ?? []) })));
        })));
        const rebuilds: CompareBuild[][] = variants.map(() => []);
        const finalScenarios: CompareScenario[] = [];
        for (const [i, sc] of scenarios.entries()) {
          await resetContext(contextDir, work);
          let changed = sc.files;
          if (changes.length > 0) changed = await runChange(work, sc.description, ctx.signal);
          else await touchFiles(work, sc.files, i + 1);
          finalScenarios.push({ ...sc, files: changed });
          for (const [n, v] of variants.entries()) rebuilds[n]?.push(await runner(runners, n).build(v, sc.id, { ...base(v), noCache: false }));
          if (i === scenarios.length - 1) continue;
          // A cached build of the original context makes it the newest record of every step again,
          // so the next scenario's misses are explained against the cold state, not this change.
          await resetContext(contextDir, work);
          for (const [n, v] of variants.entries()) await runner(runners, n).restore(v, sc.id, { ...base(v), noCache: false });
        }
        const histories: PastBuild[][] = [];
        for (const st of stores) histories.push(await st.client.buildHistory({ limit: HISTORY_SCAN }, { signal: ctx.signal }));
        report = compareReport({
          context: contextArg,
          created: new Date().toISOString(),
          scenarios: finalScenarios,
          variants: variants.map((v, n) => ({ name: v.name, dockerfile: v.given, cold: cold[n] as CompareBuild, rebuilds: rebuilds[n] ?? [], history: histories[n] ?? [] })),
        });
      } finally {
        for (const st of stores) await st.close().catch(() => undefined);
      }
      const text = render(report, format);
      const out = flagString(a, 'output');
      if (out !== undefined) await writeFile(resolve(ctx.io.cwd, out), text);
      else ctx.io.stdout.write(text);
      return 0;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};

function runner(runners: readonly Runner[], n: number): Runner {
  const r = runners[n];
  if (!r) throw new TsbuildError('INTERNAL', `no store for variant ${n}`);
  return r;
}

function render(report: CompareReport, format: Format): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'table':
      return renderCompare(report);
    case 'html':
      return renderCompareHtml(report);
    default:
      return assertNever(format, 'format');
  }
}

async function readVariants(ctx: CommandContext, files: readonly string[]): Promise<Variant[]> {
  const out: { given: string; dockerfile: DockerfileSource; short: string }[] = [];
  for (const given of files) {
    const abs = isAbsolute(given) ? given : resolve(ctx.io.cwd, given);
    let content: Buffer;
    try {
      content = await readFile(abs);
    } catch {
      throw new UserInputError('DOCKERFILE_NOT_FOUND', `failed to read dockerfile: open ${given}: no such file or directory`);
    }
    out.push({ given, dockerfile: { name: given, path: abs, content: content.toString('base64') }, short: shortName(abs) });
  }
  const clash = new Set(out.map((v) => v.short)).size !== out.length;
  return out.map((v) => ({ name: clash ? v.given : v.short, given: v.given, dockerfile: v.dockerfile }));
}

/** `x/split/Dockerfile` → `split`; `Dockerfile.single` or `single.Dockerfile` → `single`. */
function shortName(abs: string): string {
  const b = basename(abs);
  if (b === 'Dockerfile') return basename(dirname(abs));
  return b.replace(/^Dockerfile[.-]/, '').replace(/[.-]Dockerfile$/, '');
}

/** Runs one build into an OCI archive and finds its history record. */
class Runner {
  readonly #ctx: CommandContext;
  readonly #client: Client;
  readonly #dir: string;
  readonly #keep: string | undefined;
  readonly #nonce = randomBytes(4).toString('hex');
  #count = 0;

  /** `keep`: where the OCI archives stay (else they are removed once read). */
  constructor(ctx: CommandContext, client: Client, dir: string, keep: string | undefined) {
    this.#ctx = ctx;
    this.#client = client;
    this.#dir = dir;
    this.#keep = keep;
  }

  async build(v: Variant, scenario: string, req: Omit<BuildRequest, 'tags' | 'outputs'>): Promise<CompareBuild> {
    const archive = join(this.#dir, `image-${++this.#count}.tar`);
    // A unique name: the build's history record is found by it (its description).
    const tag = `tsbuild-compare-${this.#nonce}/${v.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:${scenario}`;
    const signal = this.#ctx.signal;
    this.#ctx.io.stderr.write(`compare: ${v.name}: ${scenario === 'cold' ? 'cold build' : `rebuild after scenario ${scenario}`}…\n`);
    await this.#client.build({ ...req, tags: [tag], outputs: [{ type: 'oci', attrs: { dest: archive } }] }, { signal });
    const past = (await this.#client.buildHistory({ limit: 20, files: true }, { signal })).find((b) => b.description === tag);
    if (!past) throw new TsbuildError('COMPARE_NO_HISTORY', `the build history has no record of the build of ${v.given} (is TSBUILD_HISTORY_KEEP 0?)`);
    const image = await readOciImage(archive, signal);
    if (this.#keep !== undefined) await rename(archive, join(this.#keep, `${fileSafe(v.name)}-${scenario}.tar`)).catch(async () => this.#copy(archive, v, scenario));
    else await rm(archive, { force: true });
    this.#ctx.io.stderr.write(`compare: ${v.name}: ${summary(past)}\n`);
    return { past, image };
  }

  /** Builds the original context again (all cached): only its history record matters. */
  async restore(v: Variant, after: string, req: Omit<BuildRequest, 'tags' | 'outputs'>): Promise<void> {
    const archive = join(this.#dir, `restore-${++this.#count}.tar`);
    const tag = `tsbuild-compare-${this.#nonce}/${v.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:restore-${after}`;
    try {
      await this.#client.build({ ...req, tags: [tag], outputs: [{ type: 'oci', attrs: { dest: archive } }] }, { signal: this.#ctx.signal });
    } finally {
      await rm(archive, { force: true });
    }
  }

  /** rename(2) fails across file systems: copy, then remove. */
  async #copy(archive: string, v: Variant, scenario: string): Promise<void> {
    await copyFile(archive, join(this.#keep ?? this.#dir, `${fileSafe(v.name)}-${scenario}.tar`));
    await rm(archive, { force: true });
  }
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-');
}

function summary(b: PastBuild): string {
  const ms = b.completed !== undefined ? b.completed - b.started : 0;
  return `${b.stepsTotal} steps, ${b.stepsCached} cached, ${b.stepsExecuted} executed in ${formatSeconds(ms)}`;
}
