/**
 * Solve end to end: the daemon's Solve handler served over a real gRPC server on a unix socket
 * (through calls.ts, the adapter every daemon call passes through) with a real engine, and the
 * client side `solveOverGrpc`. Until the handler is registered in tsbuildd (control-service.ts),
 * the server is made here; the engine, runc, overlay mounts and the stream are the real thing.
 * The client side runs on the CLI's own transport (src/client/h2). Checks: the same image as an embedded build, progress, a Dockerfile error with its location,
 * secrets on demand, tar and local outputs written on the client, incremental context transfer
 * (0 bytes when unchanged, one file after one change; a new context's small files sent unasked
 * with the listing), and cancel leaving no mounts.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as GrpcJsClient, Metadata, Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import tarStream from 'tar-stream';
import { EmbeddedClient } from '../../../src/client/embedded.js';
import type { tsbuild } from '../../../src/client/gen/control.js';
import { ControlService } from '../../../src/client/gen/control-grpc.js';
import { solveOverGrpc } from '../../../src/client/grpc-solve.js';
import { H2Channel } from '../../../src/client/h2/channel.js';
import { buildStartOf } from '../../../src/client/solve-wire-build.js';
import { progressFromWire } from '../../../src/client/solve-wire-progress.js';
import type { BuildCallOptions, BuildRequest, BuildResult, OutputSpec } from '../../../src/client/types.js';
import type { ProgressEvent } from '../../../src/progress/types.js';
import { Authorizer } from '../../../src/control/auth.js';
import { BuildSlots } from '../../../src/control/build-slots.js';
import { adaptService } from '../../../src/control/calls.js';
import { DaemonErrors } from '../../../src/control/errors.js';
import { InFlightCalls } from '../../../src/control/in-flight.js';
import { RunningBuilds } from '../../../src/control/running-builds.js';
import { solveHandler } from '../../../src/control/solve-handler.js';
import { TRANSFER_VERTEX_NAME } from '../../../src/control/solve-transfer-progress.js';
import type { ServiceHandlers } from '../../../src/control/types.js';
import { Engine } from '../../../src/engine/index.js';
import { CancelledError, TsbuildError, UserInputError } from '../../../src/util/errors.js';
import { BASE, describeBuilds, mountsUnder, useBuildEnv } from '../../helpers/build-env.js';

const reject = (): Promise<never> => Promise.reject(DaemonErrors.notImplemented('test'));

function request(contextDir: string, dockerfile: string, over: Partial<BuildRequest> = {}): BuildRequest {
  return {
    contextDir,
    dockerfile: { name: 'Dockerfile', content: Buffer.from(dockerfile).toString('base64') },
    buildArgs: { SOURCE_DATE_EPOCH: '1700000000' },
    labels: {},
    noCache: false,
    noCacheFilter: [],
    network: 'default',
    ssh: {},
    tags: ['localhost/solve-test:latest'],
    outputs: [],
    ...over,
  };
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every regular file under `dir`, by `/`-separated relative path, with its text. */
async function readTree(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) Object.assign(out, await readTree(dir, p));
    else if (d.isFile()) out[p] = await readFile(join(dir, p), 'utf8');
  }
  return out;
}

function logText(events: readonly ProgressEvent[], vertexName: string): string {
  const digests = new Set(events.flatMap((e) => (e.type === 'vertex' && e.name === vertexName ? [e.digest] : [])));
  return events.flatMap((e) => (e.type === 'log' && digests.has(e.vertex) ? [e.data] : [])).join('');
}

describeBuilds('Solve over gRPC', () => {
  const daemonEnv = useBuildEnv();
  const embeddedEnv = useBuildEnv();
  let engine: Engine;
  let server: Server;
  let client: GrpcJsClient;
  let channel: H2Channel;
  let sockDir: string;

  /** When the Solve handler settled and when the engine heard that the result was delivered, in order. */
  const settled: string[] = [];

  beforeAll(async () => {
    engine = await Engine.open({ root: daemonEnv.root });
    const buildReceiving: Engine['buildReceiving'] = (req, opts, context) => {
      void opts.delivered?.then(() => settled.push('delivered'));
      return engine.buildReceiving(req, opts, context);
    };
    const observed = new Proxy(engine, {
      get: (t, p) => (p === 'buildReceiving' ? buildReceiving : typeof Reflect.get(t, p) === 'function' ? (Reflect.get(t, p) as (...a: unknown[]) => unknown).bind(t) : Reflect.get(t, p)),
    });
    const solveCall = solveHandler({ engine: observed, dataRoot: daemonEnv.root, buildSlots: new BuildSlots(0), maxContextBytes: 0, builds: new RunningBuilds(), allowedEntitlements: [] });
    const handlers: ServiceHandlers<typeof ControlService> = {
      Solve: (requests, send, ctx) => solveCall(requests, send, ctx).finally(() => settled.push('handler')),
      Status: reject, ListBuilds: reject, DiskUsage: reject, Prune: reject, ListImages: reject, RemoveImage: reject,
      TagImage: reject, Inspect: reject, History: reject, Info: reject, Pull: reject, Push: reject, Load: reject, Import: reject,
      Check: reject, Repair: reject, Save: reject,
    };
    server = new Server();
    server.addService(ControlService, adaptService(ControlService, handlers, { authorizer: new Authorizer(undefined), inFlight: new InFlightCalls() }));
    sockDir = await mkdtemp(join(tmpdir(), 'tsbuild-solve-'));
    const addr = `unix://${join(sockDir, 'd.sock')}`;
    await new Promise<void>((res, rej) => server.bindAsync(addr, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    client = new GrpcJsClient(addr, credentials.createInsecure());
    channel = new H2Channel({ target: { kind: 'unix', path: join(sockDir, 'd.sock') } });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    channel?.close();
    if (server) await new Promise<void>((r) => server.tryShutdown(() => r()));
    await engine?.close();
    if (sockDir) await rm(sockDir, { recursive: true, force: true });
  });

  async function solve(req: BuildRequest, opts: Partial<BuildCallOptions> = {}): Promise<{ result: BuildResult; events: ProgressEvent[] }> {
    const events: ProgressEvent[] = [];
    const result = await solveOverGrpc(channel, req, { signal: new AbortController().signal, onProgress: (e) => events.push(e), ...opts });
    return { result, events };
  }

  /**
   * A build through a raw Solve call whose context is one tar holding `msg.txt` (CONTEXT_TRANSFER_TAR,
   * as a simple client sends it): every response, and 'ok' or the call's error.
   */
  async function solveTar(msg: string, req: BuildRequest): Promise<{ got: tsbuild.control.v1.SolveResponse[]; status: unknown }> {
    const pack = tarStream.pack();
    pack.entry({ name: 'msg.txt', mode: 0o644, mtime: new Date(0) }, msg);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const start = buildStartOf(req, { contextKey: '', secretIds: [] });
    start.contextTransfer = 2; // CONTEXT_TRANSFER_TAR
    const m = ControlService.Solve;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new Metadata());
    call.write({ start });
    call.write({ contextTar: { data: Buffer.concat(chunks), eof: true } });
    const got: tsbuild.control.v1.SolveResponse[] = [];
    const status = await (async () => {
      for await (const r of call as AsyncIterable<tsbuild.control.v1.SolveResponse>) got.push(r);
    })().then(() => 'ok', (e: unknown) => e);
    call.end();
    return { got, status };
  }

  test('builds the same image as the embedded engine, with progress', async () => {
    const files = { 'a.txt': 'hello\n', 'sub/b.txt': 'bee\n', 'ignored.txt': 'no\n', '.dockerignore': 'ignored.txt\n' };
    const df = `FROM ${BASE}\nCOPY . /ctx\nRUN cat /ctx/a.txt && echo built > /built\n`;
    const remote = await solve(request(await daemonEnv.context('same', files), df));
    const embedded = await EmbeddedClient.open({ root: embeddedEnv.root });
    let local: BuildResult;
    try {
      local = await embedded.build(request(await embeddedEnv.context('same', files), df), { signal: new AbortController().signal });
    } finally {
      await embedded.close();
    }
    expect(remote.result.configDigest).toMatch(/^sha256:/);
    expect(remote.result.configDigest).toBe(local.configDigest);
    expect(remote.result.imageDigest).toBe(local.imageDigest);
    expect(remote.result.summary.total).toBe(local.summary.total);
    const states = remote.events.flatMap((e) => (e.type === 'vertex' && e.name.includes('RUN') ? [e.state] : []));
    expect(states).toEqual(expect.arrayContaining(['started', 'completed']));
    expect(remote.events.some((e) => e.type === 'log' && e.data.includes('hello'))).toBe(true);
    expect(logText(remote.events, TRANSFER_VERTEX_NAME)).toMatch(/^transferred \d+ bytes \(3 files\) of \d+ bytes \(3 files\), listing: 4 entries\n$/);
  }, 120_000);

  test('an unchanged context transfers nothing and is all cached; one change sends only that file', async () => {
    const ctx = await daemonEnv.context('incremental', { 'a.txt': 'one\n', 'b.txt': 'two\n', 'big.bin': 'x'.repeat(100_000) });
    const df = `FROM ${BASE}\nCOPY . /ctx\nRUN cat /ctx/a.txt\n`;
    const first = await solve(request(ctx, df));
    expect(logText(first.events, TRANSFER_VERTEX_NAME)).toBe('transferred 100008 bytes (3 files) of 100008 bytes (3 files), listing: 3 entries\n');
    const second = await solve(request(ctx, df));
    expect(logText(second.events, TRANSFER_VERTEX_NAME)).toBe('transferred 0 bytes (0 files) of 100008 bytes (3 files), listing unchanged\n');
    // The context's load step always runs (it reads the synced copy, as BuildKit re-reads a local source); every other step is cached.
    const rest = second.result.summary.steps.filter((s) => s.name !== '[internal] load build context');
    expect(rest.map((s) => s.outcome)).toEqual(rest.map(() => 'cached'));
    expect(second.result.summary.executed).toBe(1);
    expect(second.result.configDigest).toBe(first.result.configDigest);
    await writeFile(join(ctx, 'a.txt'), 'changed\n');
    const third = await solve(request(ctx, df));
    expect(logText(third.events, TRANSFER_VERTEX_NAME)).toBe('transferred 8 bytes (1 files) of 100012 bytes (3 files), listing: 3 entries\n');
    expect(third.result.summary.executed).toBeGreaterThan(0);
    expect(third.events.some((e) => e.type === 'log' && e.data.includes('changed'))).toBe(true);
  }, 120_000);

  test('many small files travel packed; deletes, an ignore-file change and a same-size edit are all seen', async () => {
    const files: Record<string, string> = { 'big.bin': 'y'.repeat(300_000) };
    for (let i = 0; i < 1500; i++) files[`d${i % 7}/f${i}.txt`] = `file ${i}\n`;
    const ctx = await daemonEnv.context('many', files);
    const out = await mkdtemp(join(tmpdir(), 'tsbuild-solve-many-'));
    try {
      let n = 0;
      const build = async (): Promise<{ line: string; tree: Record<string, string> }> => {
        const dest = join(out, String(++n));
        const r = await solve(request(ctx, 'FROM scratch\nCOPY . /\n', { outputs: [{ type: 'local', attrs: { dest } }], tags: [] }));
        return { line: logText(r.events, TRANSFER_VERTEX_NAME), tree: await readTree(dest) };
      };
      const total = Object.values(files).reduce((a, c) => a + c.length, 0);
      const first = await build();
      // 1,501 files and 7 directories; the small ones packed many to a message, the large one streamed.
      expect(first.line).toBe(`transferred ${total} bytes (1501 files) of ${total} bytes (1501 files), listing: 1508 entries\n`);
      expect(first.tree).toEqual(files);
      const second = await build();
      expect(second.line).toBe(`transferred 0 bytes (0 files) of ${total} bytes (1501 files), listing unchanged\n`);
      expect(second.tree).toEqual(files);

      // Same size and the same mtime as before, a deleted file, and an ignore file that drops d6.
      const f0 = join(ctx, 'd0', 'f0.txt');
      const { mtime } = await stat(f0);
      await writeFile(f0, 'FILE 0\n');
      await utimes(f0, mtime, mtime);
      await rm(join(ctx, 'd1', 'f1.txt'));
      await writeFile(join(ctx, '.dockerignore'), 'd6\n');
      const third = await build();
      const want: Record<string, string> = { '.dockerignore': 'd6\n' };
      for (const [p, c] of Object.entries(files)) if (!p.startsWith('d6/') && p !== 'd1/f1.txt') want[p] = c;
      want['d0/f0.txt'] = 'FILE 0\n';
      const wantTotal = Object.values(want).reduce((a, c) => a + c.length, 0);
      expect(third.line).toBe(`transferred 10 bytes (2 files) of ${wantTotal} bytes (${Object.keys(want).length} files), listing: ${Object.keys(want).length + 6} entries\n`);
      expect(third.tree).toEqual(want);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);

  test('a new context\'s small files come unasked after the listing; the fetch names only the large one', async () => {
    const big = Buffer.alloc(300 * 1024, 0x62);
    const start = buildStartOf(request('/nonexistent', `FROM ${BASE}\nCOPY . /ctx\nRUN cat /ctx/a.txt /ctx/sub/c.txt && wc -c < /ctx/big.bin\n`), { contextKey: `unasked-${Date.now()}`, secretIds: [] });
    const m = ControlService.Solve;
    const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new Metadata());
    call.write({ start });
    const lists: tsbuild.control.v1.IListFiles[] = [];
    const fetches: number[][] = [];
    const got: tsbuild.control.v1.SolveResponse[] = [];
    const status = await (async () => {
      for await (const r of call as AsyncIterable<tsbuild.control.v1.SolveResponse>) {
        got.push(r);
        if (r.files?.list) {
          lists.push(r.files.list);
          const f = (fileId: number, path: string, size: number) => ({ fileId, path, mode: 0o100644, uid: 0, gid: 0, size, mtimeNs: 1_700_000_000_000_000_000, contentDigest: `xxh64:${String(fileId).padStart(16, '0')}` });
          call.write({ contextEntries: { requestId: r.files.id ?? 0, entries: [f(1, 'a.txt', 6), f(2, 'big.bin', big.length), { fileId: 3, path: 'sub', mode: 0o040755, uid: 0, gid: 0, mtimeNs: 1_700_000_000_000_000_000 }, f(4, 'sub/c.txt', 4)], done: true, contentsFollow: r.files.list.sendContents === true } });
          if (r.files.list.sendContents === true) {
            call.write({ fileChunks: { chunks: [{ requestId: r.files.id ?? 0, fileId: 1, data: Buffer.from('alpha\n'), eof: true }, { requestId: r.files.id ?? 0, fileId: 4, data: Buffer.from('see\n'), eof: true }] } });
          }
        } else if (r.files?.fetch) {
          const ids = r.files.fetch.fileIds ?? [];
          fetches.push([...ids]);
          const bytes: Record<number, Buffer> = { 1: Buffer.from('alpha\n'), 2: big, 4: Buffer.from('see\n') };
          for (const id of ids) call.write({ fileChunk: { requestId: r.files.id ?? 0, fileId: id, data: bytes[id] ?? Buffer.alloc(0), eof: true } });
        }
      }
    })().then(() => 'ok', (e: unknown) => e);
    call.end();
    expect(status).toBe('ok');
    expect(lists.map((l) => l.sendContents)).toEqual([true]);
    expect(fetches).toEqual([[2]]);
    expect(got.some((r) => r.result)).toBe(true);
    const logs = got.flatMap((r) => {
      const e = r.progress ? progressFromWire(r.progress) : undefined;
      return e?.type === 'log' ? [e.data] : [];
    }).join('');
    expect(logs).toContain('alpha');
    expect(logs).toContain('see');
    expect(logs).toContain(String(big.length));
  }, 120_000);

  test('the files a cold sync writes are in the stat cache, with the digests a checksum reads from them', async () => {
    const files = { 'one.txt': 'first\n', 'deep/two.txt': 'second\n' };
    const ctx = await daemonEnv.context('remembered', files);
    await solve(request(ctx, `FROM ${BASE}\nCOPY . /ctx\n`));
    const contexts = join(daemonEnv.root, 'solve', 'contexts');
    const statCache = engine.services.storage.statCache;
    const roots = statCache.roots().filter((r) => r.startsWith(`${contexts}/`) && statCache.get(r, 'deep/two.txt') !== undefined);
    expect(roots).toHaveLength(1);
    const root = roots[0] as string;
    for (const [path, text] of Object.entries(files)) {
      const row = statCache.get(root, path);
      const st = await stat(join(root, path));
      expect(row).toMatchObject({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, digest: engine.services.hasher.fileDigest(Buffer.from(text)) });
    }
  }, 120_000);

  test('a Dockerfile error comes back as the embedded engine throws it, with its location', async () => {
    const df = `FROM ${BASE}\nCOPY --chmodd=755 a.txt /a\n`;
    const ctx = await daemonEnv.context('bad', { 'a.txt': 'a' });
    const remote = await solve(request(ctx, df)).catch((e: unknown) => e);
    const embedded = new EmbeddedClient({ root: embeddedEnv.root });
    const local = await embedded.build(request(ctx, df), { signal: new AbortController().signal }).catch((e: unknown) => e).finally(() => embedded.close());
    expect(remote).toBeInstanceOf(UserInputError);
    expect(local).toBeInstanceOf(UserInputError);
    const r = remote as TsbuildError;
    const l = local as TsbuildError;
    expect(r.code).toBe(l.code);
    expect(r.location).toEqual(l.location);
    expect(r.location?.line).toBe(2);
    expect(r.describe()).toBe(l.describe());
  }, 60_000);

  test('--add-host entries travel: every RUN lists them in order in its /etc/hosts, they are in the cache key, a bad one is refused', async () => {
    const ctx = await daemonEnv.context('add-host', { 'a.txt': 'a\n' });
    const out = await mkdtemp(join(tmpdir(), 'tsbuild-solve-hosts-'));
    try {
      const df = `FROM ${BASE}\nRUN grep -v sandbox /etc/hosts > /hosts\n`;
      const hosts = [{ host: 'db', ip: '10.1.2.3' }, { host: 'db', ip: '10.9.9.9' }, { host: 'v6', ip: 'fe80::1' }];
      const first = await solve(request(ctx, df, { extraHosts: hosts, tags: [], outputs: [{ type: 'local', attrs: { dest: join(out, 'a') } }] }));
      expect(readFileSync(join(out, 'a', 'hosts'), 'utf8')).toBe('::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tdb\n10.9.9.9\tdb\nfe80::1\tv6\n');
      const run = (r: BuildResult): string | undefined => r.summary.steps.find((st) => st.name.includes('RUN grep'))?.outcome;
      expect(run(first.result)).toBe('executed');
      expect(run((await solve(request(ctx, df, { extraHosts: hosts, tags: [] }))).result)).toBe('cached');
      expect(run((await solve(request(ctx, df, { extraHosts: hosts.slice(0, 1), tags: [] }))).result)).toBe('executed');
      const bad = await solve(request(ctx, df, { extraHosts: [{ host: 'x', ip: 'not-an-ip' }], tags: [] })).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(UserInputError);
      expect((bad as TsbuildError).code).toBe('INVALID_ADD_HOST');
      expect((bad as TsbuildError).message).toBe('invalid --add-host "x:not-an-ip": invalid IP address "not-an-ip"');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  test('asks the client for secrets, and writes tar and local outputs at their client-side destinations', async () => {
    const ctx = await daemonEnv.context('outputs', { 'a.txt': 'payload\n' });
    const out = await mkdtemp(join(tmpdir(), 'tsbuild-solve-out-'));
    try {
      const outputs: OutputSpec[] = [
        { type: 'tar', attrs: { dest: join(out, 'fs.tar') } },
        { type: 'local', attrs: { dest: join(out, 'dir') } },
      ];
      const df = `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /tok.txt\n`;
      const asked: string[] = [];
      await solve(request(ctx, df, { outputs, tags: [] }), {
        secrets: async (id) => {
          asked.push(id);
          return id === 'tok' ? Buffer.from('s3cret') : undefined;
        },
      });
      expect(asked).toEqual(['tok']);
      expect(existsSync(join(out, 'fs.tar'))).toBe(true);
      expect(readFileSync(join(out, 'fs.tar')).includes(Buffer.from('payload\n'))).toBe(true);
      expect(readFileSync(join(out, 'dir', 'a.txt'), 'utf8')).toBe('payload\n');
      expect(readFileSync(join(out, 'dir', 'tok.txt'), 'utf8')).toBe('s3cret');
      expect(existsSync(join(out, 'dir', 'bin', 'sh'))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  test('a simple client can send the context as one tar (CONTEXT_TRANSFER_TAR)', async () => {
    const { got, status } = await solveTar('from a tar\n', request('/nonexistent', `FROM ${BASE}\nCOPY msg.txt /msg.txt\nRUN cat /msg.txt\n`));
    expect(status).toBe('ok');
    expect(got[0]?.accepted?.ref).toMatch(/^[0-9a-f]{24}$/);
    expect(got.some((r) => r.files)).toBe(false);
    expect(got.some((r) => Buffer.from(r.progress?.log?.data ?? []).toString().includes('from a tar'))).toBe(true);
    expect(got.at(-1)?.result?.configDigest).toMatch(/^sha256:/);
  }, 60_000);

  test('a failed build ends with its error, after every progress message', async () => {
    const { got, status } = await solveTar('x\n', request('/nonexistent', `FROM ${BASE}\nCOPY msg.txt /msg.txt\nRUN echo going down && exit 3\n`, { noCache: true }));
    expect(status).toBeInstanceOf(Error);
    const errors = got.flatMap((r, i) => (r.error ? [i] : []));
    expect(errors).toEqual([got.length - 1]);
    expect(got.at(-1)?.error?.message).toMatch(/exit code: 3/);
    // The failed step's own report (its log and its error) came before.
    expect(got.some((r) => Buffer.from(r.progress?.log?.data ?? []).toString().includes('going down'))).toBe(true);
    expect(got.some((r) => r.progress?.vertex?.error)).toBe(true);
  }, 60_000);

  test('the engine hears of the delivery (and starts its collection) only after the call is over', async () => {
    const ctx = await daemonEnv.context('delivered', { 'a.txt': 'a\n' });
    settled.length = 0;
    await solve(request(ctx, `FROM ${BASE}\nCOPY a.txt /a.txt\n`));
    await until('the delivery', () => settled.includes('delivered'));
    // calls.ts sends the status as the handler settles; the collection's walks came before it.
    expect(settled).toEqual(['handler', 'delivered']);
  }, 60_000);

  test('a quiet client (progressOnFailure) gets no progress from a build that succeeds, and all of it, in order, before a failure', async () => {
    const ctx = await daemonEnv.context('quiet', { 'a.txt': 'a\n' });
    const ok = `FROM ${BASE}\nCOPY a.txt /a.txt\n`;
    await solve(request(ctx, ok));
    const quietOk = await solve(request(ctx, ok), { progressOnFailure: true });
    expect(quietOk.result.summary.steps.find((st) => st.name.includes('COPY'))?.outcome).toBe('cached');
    // The daemon held them back and, the build having succeeded, sent none.
    expect(quietOk.events).toEqual([]);
    const failing = `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN echo going down && exit 3\n`;
    const run = async (o: Partial<BuildCallOptions>): Promise<{ error: unknown; events: ProgressEvent[] }> => {
      const events: ProgressEvent[] = [];
      const error = await solveOverGrpc(channel, request(ctx, failing, { noCache: true }), { signal: new AbortController().signal, onProgress: (e) => events.push(e), ...o })
        .then(() => undefined, (e: unknown) => e);
      return { error, events };
    };
    const loud = await run({});
    const quiet = await run({ progressOnFailure: true });
    expect(quiet.error).toBeInstanceOf(TsbuildError);
    expect((quiet.error as Error).message).toBe((loud.error as Error).message);
    // The same events of each step (timestamps aside) in the same order, so a quiet renderer shows the
    // same failure (steps that run side by side, FROM and the context, interleave differently run to run).
    const names = new Map<string, string>();
    const perStep = (events: readonly ProgressEvent[]): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      for (const e of events) {
        if (e.type === 'vertex') names.set(e.digest, e.name);
        const step = e.type === 'vertex' ? e.name : e.type === 'log' || e.type === 'status' ? (names.get(e.vertex) ?? e.vertex) : e.type;
        (out[step] ??= []).push(e.type === 'vertex' ? `${e.state}${e.error ? ` ${e.error}` : ''}` : e.type === 'log' ? `log ${e.data}` : e.type);
      }
      return out;
    };
    expect(perStep(quiet.events)).toEqual(perStep(loud.events));
    expect(quiet.events.length).toBe(loud.events.length);
    expect(logText(quiet.events, '[3/3] RUN echo going down && exit 3')).toContain('going down');
  }, 90_000);

  test('aborting the signal cancels the build and leaves no mounts', async () => {
    const ctx = await daemonEnv.context('cancel', { 'a.txt': 'a' });
    const ac = new AbortController();
    let runStarted = false;
    const events: ProgressEvent[] = [];
    const p = solveOverGrpc(channel, request(ctx, `FROM ${BASE}\nRUN echo sleeping && sleep 60\n`, { noCache: true }), {
      signal: ac.signal,
      onProgress: (e) => {
        events.push(e);
        if (e.type === 'log' && e.data.includes('sleeping')) runStarted = true;
      },
    }).catch((e: unknown) => e);
    await until('the RUN step to start', () => runStarted);
    const t0 = Date.now();
    ac.abort(new Error('test cancels'));
    const e = await p;
    expect(e).toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await mountsUnder(daemonEnv.root)).toEqual([]);
  }, 90_000);
});
