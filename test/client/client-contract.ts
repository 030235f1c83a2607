/**
 * The client contract suite: one set of cases every Client implementation must pass the same way —
 * the embedded client, the embedded client behind a JSON wire, and (when it lands) the gRPC client
 * talking to a real tsbuildd. Each case runs against a real engine (runc, overlay, the busybox base
 * image) on a fresh data root and checks answers, the progress event sequence, and typed errors,
 * down to the exact text the CLI prints for a Dockerfile error.
 *
 * Plugging a client in is one line in contract.test.ts: `clientContract(name, (root) => client)`.
 * The factory gets the data root the engine must use; `close()` is called after the last case.
 * A client that cannot build or import yet (the gRPC client before Solve) says so in `supports`:
 * the suite then makes the same images with an EmbeddedClient on the root before the factory runs,
 * and leaves out the cases it cannot run (they are not registered, so strict mode has no skips).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultGcBudget } from '../../src/cache/gc-policy.js';
import { EmbeddedClient } from '../../src/client/embedded.js';
import type { BuildRequest, Client } from '../../src/client/types.js';
import type { ProgressEvent } from '../../src/progress/types.js';
import { isTsbuildError } from '../../src/util/errors.js';
import { VERSION } from '../../src/version.js';
import { formatError } from '../../cmd/cli/main.js';
import { busyboxTar, mountsUnder } from '../helpers/build-env.js';
import { haveBusybox } from '../helpers/busybox.js';
import { describeIf, haveBinary, isRoot } from '../helpers/skip.js';
import { transferContract } from './client-contract-transfer.js';

export type ClientFactory = (root: string) => Client | Promise<Client>;

/** What a client can do; every part defaults to true. */
export interface ContractSupport {
  /** `build` (and with it the build, cache-hit, Dockerfile-error and cancelled-build cases). */
  readonly build?: boolean;
  /** `importImage`. */
  readonly importImage?: boolean;
  /** `check`. */
  readonly check?: boolean;
}

const BASE = 'localhost/busybox:latest';
const DOCKERFILE = `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN echo built > /b.txt && cat /a.txt\nENV MODE=test\n`;
const BAD_DOCKERFILE = `FROM ${BASE}\nFROBNICATE x\n`;

const canRun = isRoot && haveBinary('runc') && haveBusybox;
const why = 'needs root, runc and busybox';

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function buildRequest(contextDir: string, dockerfile: string, tags: readonly string[]): BuildRequest {
  return {
    contextDir,
    dockerfile: { name: 'Dockerfile', path: join(contextDir, 'Dockerfile'), content: b64(dockerfile) },
    // Reproducible images: the same build gives the same digests.
    buildArgs: { SOURCE_DATE_EPOCH: '1700000000' },
    labels: {},
    noCache: false,
    noCacheFilter: [],
    network: 'default',
    ssh: {},
    tags,
    outputs: [],
  };
}

/** Vertex names in order of first appearance, and each vertex's states in order. */
function vertexStates(events: readonly ProgressEvent[]): Map<string, string[]> {
  const byDigest = new Map<string, { name: string; states: string[] }>();
  for (const e of events) {
    if (e.type !== 'vertex') continue;
    const v = byDigest.get(e.digest) ?? { name: e.name, states: [] };
    v.states.push(e.state);
    byDigest.set(e.digest, v);
  }
  return new Map([...byDigest.values()].map((v) => [v.name, v.states]));
}

function digestsNamed(events: readonly ProgressEvent[], pattern: RegExp): string[] {
  return [...new Set(events.flatMap((e) => (e.type === 'vertex' && pattern.test(e.name) ? [e.digest] : [])))];
}

export function clientContract(name: string, makeClient: ClientFactory, supports: ContractSupport = {}): void {
  const canBuild = supports.build ?? true;
  const canImport = supports.importImage ?? true;
  const canCheck = supports.check ?? true;
  /** Registers a case only for clients that support it (not a skip: the case does not apply). */
  const testWhen = (ok: boolean, title: string, fn: () => Promise<void>): void => {
    if (ok) test(title, fn, 300_000);
  };
  describeIf(canRun, why, `client contract: ${name}`, () => {
    const signal = AbortSignal.timeout(300_000);
    let dir = '';
    let root = '';
    let ctxDir = '';
    let client: Client | undefined;
    const c = (): Client => {
      if (!client) throw new Error('the client was not made');
      return client;
    };
    let imageDigest = '';
    let configDigest = '';

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tsbuild-contract-'));
      root = join(dir, 'root');
      ctxDir = join(dir, 'ctx');
      await mkdir(ctxDir);
      await writeFile(join(ctxDir, 'a.txt'), 'hello\n');
      await writeFile(join(ctxDir, 'Dockerfile'), DOCKERFILE);
      if (!canBuild || !canImport) {
        // The images the import and build cases would have made, made on the same root by the embedded engine.
        const seeder = await EmbeddedClient.open({ root });
        try {
          await seeder.importImage({ source: await busyboxTar(), name: BASE }, { signal });
          const res = await seeder.build(buildRequest(ctxDir, DOCKERFILE, ['app:1']), { signal });
          imageDigest = res.imageDigest ?? '';
          configDigest = res.configDigest ?? '';
        } finally {
          await seeder.close();
        }
      }
      client = await makeClient(root);
    }, 300_000);
    afterAll(async () => {
      await client?.close();
      if (dir) {
        expect(await mountsUnder(dir)).toEqual([]);
        await rm(dir, { recursive: true, force: true });
      }
    });

    test('info: version, data root, kernel, runc, platform, outputs, features', async () => {
      const info = await c().info({ signal });
      expect(info).toMatchObject({ version: VERSION, root, kernel: release(), platform: 'linux/amd64', snapshotter: 'overlay2' });
      expect(info.runc.version).toMatch(/^\d+\.\d+/);
      expect([...info.outputs].sort()).toEqual(['docker', 'image', 'local', 'oci', 'tar']);
      expect(info.features).toEqual(expect.arrayContaining(['secrets', 'ssh', 'cache-export:registry', 'native-sys']));
      // Neither the embedded engine nor the daemon was given a budget: BuildKit's default, 10% of the disk.
      expect(info.gcKeepStorage).toBe(await defaultGcBudget(root));
    });

    testWhen(canImport, 'importImage: a rootfs tarball becomes a one-layer image', async () => {
      const rec = await c().importImage({ source: await busyboxTar(), name: BASE }, { signal });
      expect(rec).toMatchObject({ name: BASE, manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), configDigest: expect.stringMatching(/^sha256:/) });
    });

    testWhen(canBuild, 'build: the result, and progress events in BuildKit order', async () => {
      const events: ProgressEvent[] = [];
      const res = await c().build(buildRequest(ctxDir, DOCKERFILE, ['app:1']), { signal, onProgress: (e) => events.push(e) });
      imageDigest = res.imageDigest ?? '';
      configDigest = res.configDigest ?? '';
      expect(imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(configDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(res.exports).toEqual([{ imageDigest, configDigest, metadata: { 'image.name': 'docker.io/library/app:1' } }]);
      expect(res.pushed).toEqual([]);
      expect(res.remoteCache).toEqual({ imported: [], downloadedBlobs: 0, downloadedBytes: 0, exported: [] });
      const s = res.summary;
      expect(s.steps.map((st) => st.name)).toEqual(expect.arrayContaining(['[1/3] FROM localhost/busybox:latest', '[2/3] COPY a.txt /a.txt', '[3/3] RUN echo built > /b.txt && cat /a.txt']));
      expect(s.total).toBe(s.steps.length);
      expect(s.executed + s.cached + s.skipped).toBe(s.total);
      // Why each step ran, as data (the chain breaks at the base image) and in words (a fresh root
      // has no earlier build of this Dockerfile).
      const step = (n: string): unknown => s.steps.find((st) => st.name === n);
      expect(step('[2/3] COPY a.txt /a.txt')).toMatchObject({
        outcome: 'executed', missReason: { kind: 'input-changed', inputName: '[1/3] FROM localhost/busybox:latest' },
        cacheKey: expect.stringMatching(/^sha256:/), cacheMiss: 'first build of this Dockerfile',
      });
      expect(step('[3/3] RUN echo built > /b.txt && cat /a.txt')).toMatchObject({
        outcome: 'executed', missReason: { kind: 'input-changed', inputName: '[2/3] COPY a.txt /a.txt' }, cacheMiss: 'first build of this Dockerfile',
      });

      // Every vertex starts once and completes once; the definition loads first, the export last.
      const states = vertexStates(events);
      const names = [...states.keys()];
      expect(names[0]).toBe('[internal] load build definition from Dockerfile');
      expect(names[names.length - 1]).toBe('exporting to image');
      expect(new Set(names)).toEqual(new Set([
        '[internal] load build definition from Dockerfile', '[internal] load .dockerignore', '[internal] load metadata for localhost/busybox:latest',
        '[1/3] FROM localhost/busybox:latest', '[internal] load build context',
        '[2/3] COPY a.txt /a.txt', '[3/3] RUN echo built > /b.txt && cat /a.txt', 'exporting to image',
      ]));
      for (const [vertex, seq] of states) expect([vertex, seq]).toEqual([vertex, ['started', 'completed']]);
      // The RUN's output arrives as log events of its vertex; export progress as status rows.
      const [runDigest] = digestsNamed(events, /RUN echo built/);
      expect(events.filter((e) => e.type === 'log' && e.vertex === runDigest).map((e) => (e.type === 'log' ? e.data : '')).join('')).toContain('hello\n');
      const [exportDigest] = digestsNamed(events, /^exporting to image$/);
      expect(events.some((e) => e.type === 'status' && e.vertex === exportDigest && /^exporting layer/.test(e.name ?? e.id))).toBe(true);
      // Events refer only to announced vertices, carry times, and are plain data.
      const announced = new Set(events.flatMap((e) => (e.type === 'vertex' ? [e.digest] : [])));
      for (const e of events) {
        if (e.type !== 'vertex' && e.type !== 'warning') expect(announced.has(e.vertex)).toBe(true);
        expect(typeof e.timestamp).toBe('number');
      }
      expect(JSON.parse(JSON.stringify(events))).toEqual(events);
      expect(JSON.parse(JSON.stringify(res))).toEqual(res);
    });

    testWhen(canBuild, 'build again: every Dockerfile step from the cache, the same image', async () => {
      const events: ProgressEvent[] = [];
      const res = await c().build(buildRequest(ctxDir, DOCKERFILE, ['app:1']), { signal, onProgress: (e) => events.push(e) });
      expect(res.imageDigest).toBe(imageDigest);
      // The context is always looked at again (hashing it is how the cache knows it is unchanged).
      expect(res.summary.steps.map((st) => [st.name, st.outcome])).toEqual([
        ['[1/3] FROM localhost/busybox:latest', 'cached'],
        ['[internal] load build context', 'executed'],
        ['[2/3] COPY a.txt /a.txt', 'cached'],
        ['[3/3] RUN echo built > /b.txt && cat /a.txt', 'cached'],
      ]);
      const states = vertexStates(events);
      expect([...states]).toEqual([
        ['[internal] load build definition from Dockerfile', ['started', 'completed']],
        ['[internal] load .dockerignore', ['started', 'completed']],
        ['[internal] load metadata for localhost/busybox:latest', ['started', 'completed']],
        ['[1/3] FROM localhost/busybox:latest', ['cached']],
        ['[internal] load build context', ['started', 'completed']],
        ['[2/3] COPY a.txt /a.txt', ['cached']],
        ['[3/3] RUN echo built > /b.txt && cat /a.txt', ['cached']],
        ['exporting to image', ['started', 'completed']],
      ]);
    });

    testWhen(canBuild, 'buildHistory: the two builds, newest first, each step with its outcome and why', async () => {
      const builds = await c().buildHistory({}, { signal });
      expect(builds.map((b) => [b.description, b.status, b.stepsTotal, b.stepsCached, b.stepsExecuted])).toEqual([
        ['app:1', 'succeeded', 3, 3, 0],
        ['app:1', 'succeeded', 3, 0, 3],
      ]);
      const own = (b: (typeof builds)[number]): unknown[] => b.steps.filter((st) => st.stage !== '').map((st) => [st.instruction, st.outcome, st.why]);
      expect(own(builds[1] as (typeof builds)[number])).toEqual([
        ['FROM localhost/busybox:latest', 'executed', 'first build of this Dockerfile'],
        ['COPY a.txt /a.txt', 'executed', 'first build of this Dockerfile'],
        ['RUN echo built > /b.txt && cat /a.txt', 'executed', 'first build of this Dockerfile'],
      ]);
      const copy = builds[1]?.steps.find((st) => st.instruction === 'COPY a.txt /a.txt');
      expect(copy).toMatchObject({ filesRead: 1, bytesRead: 6, layerSize: expect.any(Number), cacheKey: expect.stringMatching(/^sha256:/) });
      // The paths a step read come only when asked for (`tsbuild compare` touches them).
      expect(copy?.files).toBeUndefined();
      const withFiles = await c().buildHistory({ buildId: builds[1]?.buildId ?? '', files: true }, { signal });
      expect(withFiles[0]?.steps.filter((st) => st.files !== undefined).map((st) => [st.instruction, st.files])).toEqual([['COPY a.txt /a.txt', ['a.txt']]]);
      const one = await c().buildHistory({ buildId: builds[1]?.buildId ?? '' }, { signal });
      expect(one).toEqual([builds[1]]);
      const err = await c().buildHistory({ buildId: 'nosuchbuild' }, { signal }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'BUILD_NOT_FOUND', message: 'no build nosuchbuild in the history' });
    });

    test('listImages, tagImage: names, IDs, sizes', async () => {
      const tagged = await c().tagImage({ source: 'app:1', target: 'app:2' }, { signal });
      expect(tagged).toMatchObject({ name: 'docker.io/library/app:2', manifestDigest: imageDigest, configDigest });
      const rows = await c().listImages({ signal });
      const app = rows.filter((r) => r.repository === 'app');
      expect(app.map((r) => r.tag).sort()).toEqual(['1', '2']);
      for (const r of app) {
        expect(r).toMatchObject({ name: `docker.io/library/app:${r.tag}`, id: configDigest, manifestDigest: imageDigest });
        expect(r.size).toBeGreaterThan(1_000_000);
      }
      expect(rows.find((r) => r.repository === 'localhost/busybox')).toMatchObject({ tag: 'latest' });
    });

    test('history and inspect: the image as docker shows it', async () => {
      const rows = await c().history({ name: 'app:1' }, { signal });
      expect(rows[0]?.id).toBe(configDigest);
      expect(rows.slice(1).every((r) => r.id === '<missing>')).toBe(true);
      expect(rows.map((r) => r.createdBy)).toEqual(['ENV MODE=test', 'RUN /bin/sh -c echo built > /b.txt && cat /a.txt # buildkit', 'COPY a.txt /a.txt # buildkit', '']);
      expect(rows[0]).toEqual({ id: configDigest, created: '2023-11-14T22:13:20Z', createdBy: 'ENV MODE=test', size: 0, comment: 'buildkit.dockerfile.v0', emptyLayer: true });
      expect(rows[1]).toMatchObject({ size: 6, emptyLayer: false, layer: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

      const img = await c().inspect({ name: 'app:1' }, { signal });
      expect(img).toMatchObject({ Id: configDigest, Architecture: 'amd64', Os: 'linux', GraphDriver: { Name: 'overlay2' } });
      expect([...img.RepoTags].sort()).toEqual(['app:1', 'app:2']);
      // Built here, never pushed or pulled: no RepoDigests, as docker.
      expect(img.RepoDigests).toEqual([]);
      expect(img.RootFS.Layers).toHaveLength(3);
      expect(img.Config.Env).toContain('MODE=test');
      expect(img.GraphDriver.Data?.UpperDir).toMatch(/\/overlay2\/[0-9a-f]+\/diff$/);
    });

    test('removeImage: a name goes; an unknown one is a typed error', async () => {
      expect(await c().removeImage({ name: 'app:2' }, { signal })).toEqual({ untagged: ['docker.io/library/app:2'], deleted: [] });
      const err = await c().removeImage({ name: 'nope:1' }, { signal }).then(() => undefined, (e: unknown) => e);
      expect(isTsbuildError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'IMAGE_NOT_FOUND', message: 'No such image: nope:1' });
      expect(formatError(err, false)).toBe('error: No such image: nope:1\n');
    });

    test('listBuilds with no build running is empty; attach to an unknown ref is BUILD_NOT_FOUND', async () => {
      expect(await c().listBuilds({ signal })).toEqual([]);
      const err = await c().attach({ ref: 'nope' }, { signal }).then(() => undefined, (e: unknown) => e);
      expect(isTsbuildError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'BUILD_NOT_FOUND', message: 'no running build has ref "nope"' });
      expect(formatError(err, false)).toBe('error: no running build has ref "nope"\n');
    });
    transferContract({ client: c, signal, dir: () => dir, image: () => ({ imageDigest, configDigest }) });

    testWhen(canBuild, 'a Dockerfile error: typed, located, printed with the offending line and a caret', async () => {
      const events: ProgressEvent[] = [];
      const err = await c().build(buildRequest(ctxDir, BAD_DOCKERFILE, []), { signal, onProgress: (e) => events.push(e) }).then(() => undefined, (e: unknown) => e);
      expect(isTsbuildError(err)).toBe(true);
      expect(err).toMatchObject({
        name: 'UserInputError',
        code: 'DOCKERFILE_UNKNOWN_INSTRUCTION',
        message: 'unknown instruction: FROBNICATE',
        location: { file: 'Dockerfile', line: 2, column: 1 },
        sourceLine: 'FROBNICATE x',
      });
      expect(formatError(err, false)).toBe('error: Dockerfile:2:1: unknown instruction: FROBNICATE\n 2 | FROBNICATE x\n   | ^\n');
      const failed = events.filter((e) => e.type === 'vertex' && e.state === 'error');
      // As in BuildKit, the definition itself loaded; the error is the build's, on no step.
      expect(failed).toEqual([]);
    });

    test('a cancelled call rejects with CANCELLED', async () => {
      const ac = new AbortController();
      ac.abort(new Error('stop'));
      const call = canBuild ? c().build(buildRequest(ctxDir, DOCKERFILE, []), { signal: ac.signal }) : c().listImages({ signal: ac.signal });
      const err = await call.then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'CANCELLED' });
    });

    test('parse and llb: the Dockerfile tools', async () => {
      const parsed = await c().parse({ dockerfile: { name: 'Dockerfile', content: b64(DOCKERFILE) }, format: 'dump' }, { signal });
      expect(parsed).toEqual({
        text: '(from "localhost/busybox:latest")\n(copy "a.txt" "/a.txt")\n(run "echo built > /b.txt && cat /a.txt")\n(env "MODE" "test" "=")\n',
        warnings: [],
      });
      const llb = await c().llb({
        contextDir: ctxDir, dockerfile: { name: 'Dockerfile', content: b64(DOCKERFILE) }, buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], format: 'json',
      }, { signal });
      expect(JSON.parse(llb.text)).toMatchObject({ target: 'stage-0', image: { config: { Env: expect.arrayContaining(['MODE=test']) } } });
    });

    test('diskUsage, check, repair, prune: the cache', async () => {
      const du = await c().diskUsage({ verbose: true }, { signal });
      expect(du.records.length).toBeGreaterThan(0);
      expect(du.totalBytes).toBeGreaterThan(0);
      expect(du.records.find((r) => r.description.includes('RUN echo built'))).toMatchObject({ recordType: 'regular', inUse: false, parent: expect.any(String) });
      if (canCheck) {
        const check = await c().check({ deep: true }, { signal });
        expect(check).toMatchObject({ ok: true, problems: [], recovered: [] });
        expect(check.blobsChecked).toBeGreaterThan(0);
        expect(await c().repair({}, { signal })).toMatchObject({ fixed: [], remaining: [] });
      }
      const pruned = await c().prune({ all: true }, { signal });
      expect(pruned.records.map((r) => r.description)).toEqual(expect.arrayContaining(['[3/3] RUN echo built > /b.txt && cat /a.txt']));
      expect(pruned.bytesFreed).toBeGreaterThan(0);
      const after = await c().diskUsage({}, { signal });
      expect(after.records).toEqual([]);
    });
  });
}
