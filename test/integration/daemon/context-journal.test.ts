/**
 * The daemon's context journal end to end (src/control/context-journal.ts): the Solve handler on a
 * real gRPC server on a unix socket with a real engine, the client side `solveOverGrpc` as the CLI
 * calls it over a unix socket (sameHost). A no-op after a synced build skips the client's walk
 * (`listing unchanged (journal)`); every way a context can change — contents with the old size and
 * mtime put back, mode, mtime alone, a new file in a new directory, a delete, a rename, a symlink
 * retargeted, a write through a hard link from outside the context, a new file re-included under an
 * excluded directory, the ignore file, a write while a build runs — makes the next build walk and
 * see it; a daemon restart walks; a burst of events large enough to have overflowed the kernel's
 * queue makes every journal walk; a tcp caller, or a client with TSBUILD_CONTEXT_JOURNAL=0, gets none.
 * Without `!` exceptions in the ignore file, a one-file edit lists that path alone (`listing: 1
 * changed path (journal)`), and a new directory walks.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { appendFileSync, chmodSync, linkSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ControlService } from '../../../src/client/gen/control-grpc.js';
import { solveOverGrpc } from '../../../src/client/grpc-solve.js';
import { H2Channel } from '../../../src/client/h2/channel.js';
import type { BuildRequest } from '../../../src/client/types.js';
import type { ProgressEvent } from '../../../src/progress/types.js';
import { Authorizer } from '../../../src/control/auth.js';
import { BuildSlots } from '../../../src/control/build-slots.js';
import { adaptService } from '../../../src/control/calls.js';
import { DaemonErrors } from '../../../src/control/errors.js';
import { InFlightCalls } from '../../../src/control/in-flight.js';
import { RunningBuilds } from '../../../src/control/running-builds.js';
import { solveHandler } from '../../../src/control/solve-handler.js';
import type { SolveDeps } from '../../../src/control/solve-handler.js';
import { TRANSFER_VERTEX_NAME } from '../../../src/control/solve-transfer-progress.js';
import type { ServiceHandlers } from '../../../src/control/types.js';
import { Engine } from '../../../src/engine/index.js';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';

const reject = (): Promise<never> => Promise.reject(DaemonErrors.notImplemented('test'));
const JOURNAL = /listing unchanged \(journal\)\n$/;

function logText(events: readonly ProgressEvent[]): string {
  const digests = new Set(events.flatMap((e) => (e.type === 'vertex' && e.name === TRANSFER_VERTEX_NAME ? [e.digest] : [])));
  return events.flatMap((e) => (e.type === 'log' && digests.has(e.vertex) ? [e.data] : [])).join('');
}

/** Every regular file under `dir` with its text. */
async function readTree(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) Object.assign(out, await readTree(dir, p));
    else if (d.isFile()) out[p] = await readFile(join(dir, p), 'utf8');
  }
  return out;
}

describeBuilds('Solve: the context journal', () => {
  const env = useBuildEnv();
  let engine: Engine;
  let server: Server;
  let channel: H2Channel;
  let work: string;
  /** The daemon's Solve handler; replaced to restart the daemon's warm state on the same data root. */
  let current: ReturnType<typeof solveHandler>;
  let deps: SolveDeps;
  let listsAsked = 0;
  /** What the daemon sent, in order: `accepted`, `progress`, `list`, `fetch`… (reset by each test that reads it). */
  let sent: string[] = [];
  /** Runs before a listing request with `journal_delta` goes to the client (once, then cleared). */
  let beforeDelta: (() => void) | undefined;

  beforeAll(async () => {
    engine = await Engine.open({ root: env.root });
    deps = { engine, dataRoot: env.root, buildSlots: new BuildSlots(0), maxContextBytes: 0, builds: new RunningBuilds(), allowedEntitlements: [] };
    current = solveHandler(deps);
    const handlers: ServiceHandlers<typeof ControlService> = {
      // Counts the listing requests the daemon sends (a clean journal sends none).
      Solve: ((r, s, c) => current(r, (m) => {
        if (m.files?.list) listsAsked++;
        sent.push(m.files?.list ? `list${m.files.list.journalDelta ? ' delta' : ''}${m.files.list.deltaContents ? ' contents' : ''}` : m.files?.fetch ? 'fetch' : Object.keys(m)[0] ?? '');
        if (m.files?.list?.journalDelta && beforeDelta) {
          const hook = beforeDelta;
          beforeDelta = undefined;
          hook();
        }
        return s(m);
      }, c)) as ReturnType<typeof solveHandler>,
      Status: reject, ListBuilds: reject, DiskUsage: reject, Prune: reject, ListImages: reject, RemoveImage: reject,
      TagImage: reject, Inspect: reject, History: reject, Info: reject, Pull: reject, Push: reject, Load: reject, Import: reject,
      Check: reject, Repair: reject, Save: reject,
    };
    server = new Server();
    server.addService(ControlService, adaptService(ControlService, handlers, { authorizer: new Authorizer(undefined), inFlight: new InFlightCalls() }));
    work = await mkdtemp(join(tmpdir(), 'tsbuild-journal-'));
    await new Promise<void>((res, rej) => server.bindAsync(`unix://${join(work, 'd.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
    channel = new H2Channel({ target: { kind: 'unix', path: join(work, 'd.sock') } });
  }, 60_000);

  afterAll(async () => {
    channel?.close();
    if (server) await new Promise<void>((r) => server.tryShutdown(() => r()));
    await engine?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let n = 0;
  /** Builds `ctx` (`COPY . /` to a local directory) over the unix socket; the transfer line and the files built. */
  async function build(ctx: string, onProgress?: (e: ProgressEvent) => void, dockerfile = 'FROM scratch\nCOPY . /\n'): Promise<{ line: string; tree: Record<string, string> }> {
    const dest = join(work, `out-${++n}`);
    const req: BuildRequest = {
      contextDir: ctx, dockerfile: { name: 'Dockerfile', content: Buffer.from(dockerfile).toString('base64') },
      buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [{ type: 'local', attrs: { dest } }],
    };
    const events: ProgressEvent[] = [];
    await solveOverGrpc(channel, req, { signal: new AbortController().signal, onProgress: (e) => { events.push(e); onProgress?.(e); } }, { sameHost: true });
    const tree = await readTree(dest);
    await rm(dest, { recursive: true, force: true });
    return { line: logText(events), tree };
  }

  test('a no-op skips the walk; every kind of change is seen by the next build', async () => {
    const ctx = join(work, 'ctx');
    const outside = join(work, 'outside');
    mkdirSync(join(ctx, 'sub'), { recursive: true });
    mkdirSync(join(ctx, 'skip'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(ctx, 'a.txt'), 'aaaa\n');
    writeFileSync(join(ctx, 'b.txt'), 'bbbb\n');
    writeFileSync(join(ctx, 'sub', 'c.txt'), 'cccc\n');
    writeFileSync(join(ctx, 'skip', 'x.txt'), 'excluded\n');
    writeFileSync(join(ctx, 'skip', 'keep1.txt'), 'kept\n');
    writeFileSync(join(ctx, 'hl.txt'), 'linked\n');
    linkSync(join(ctx, 'hl.txt'), join(outside, 'hl-outside'));
    symlinkSync('a.txt', join(ctx, 'link'));
    writeFileSync(join(ctx, '.dockerignore'), 'skip\n!skip/keep*\n');

    const first = await build(ctx);
    expect(first.line).toMatch(/listing: \d+ entries\n$/);
    expect(first.tree['skip/keep1.txt']).toBe('kept\n');
    expect(first.tree['skip/x.txt']).toBeUndefined();
    // The clean journal vouches for the copy: the client is not even asked for its listing.
    listsAsked = 0;
    expect((await build(ctx)).line).toMatch(JOURNAL);
    expect(listsAsked).toBe(0);

    const changes: [string, () => void, (tree: Record<string, string>) => void][] = [
      ['same size, mtime put back', () => {
        const st = statSync(join(ctx, 'a.txt'));
        writeFileSync(join(ctx, 'a.txt'), 'AAAA\n');
        utimesSync(join(ctx, 'a.txt'), st.atime, st.mtime);
      }, (t) => expect(t['a.txt']).toBe('AAAA\n')],
      ['mode', () => chmodSync(join(ctx, 'b.txt'), 0o600), () => undefined],
      ['mtime alone', () => utimesSync(join(ctx, 'sub', 'c.txt'), 1_000_000, 1_000_000), () => undefined],
      ['a new file in a new directory', () => {
        mkdirSync(join(ctx, 'new', 'deeper'), { recursive: true });
        writeFileSync(join(ctx, 'new', 'deeper', 'd.txt'), 'dddd\n');
      }, (t) => expect(t['new/deeper/d.txt']).toBe('dddd\n')],
      ['a file in the new directory, watched since the walk after it came', () => writeFileSync(join(ctx, 'new', 'deeper', 'e.txt'), 'eeee\n'), (t) => expect(t['new/deeper/e.txt']).toBe('eeee\n')],
      ['a delete', () => unlinkSync(join(ctx, 'b.txt')), (t) => expect(t['b.txt']).toBeUndefined()],
      ['a rename', () => renameSync(join(ctx, 'sub', 'c.txt'), join(ctx, 'sub', 'c2.txt')), (t) => expect(t['sub/c2.txt']).toBe('cccc\n')],
      ['a symlink retargeted', () => {
        unlinkSync(join(ctx, 'link'));
        symlinkSync('sub/c2.txt', join(ctx, 'link'));
      }, () => undefined],
      ['a write through a hard link outside the context', () => appendFileSync(join(outside, 'hl-outside'), 'more\n'), (t) => expect(t['hl.txt']).toBe('linked\nmore\n')],
      ['a file re-included under an excluded directory', () => writeFileSync(join(ctx, 'skip', 'keep2.txt'), 'kept too\n'), (t) => expect(t['skip/keep2.txt']).toBe('kept too\n')],
      ['the ignore file', () => writeFileSync(join(ctx, '.dockerignore'), 'skip\n'), (t) => expect(t['skip/keep1.txt']).toBeUndefined()],
    ];
    for (const [what, change, check] of changes) {
      change();
      const walked = await build(ctx);
      expect({ what, line: walked.line }).toEqual({ what, line: expect.stringMatching(/listing: \d+ entries\n$/) });
      check(walked.tree);
      expect({ what, line: (await build(ctx)).line }).toEqual({ what, line: expect.stringMatching(JOURNAL) });
    }

    // A write while a build runs (after its listing was taken) is seen by the next build.
    let wrote = false;
    const during = await build(ctx, (e) => {
      if (!wrote && e.type === 'log' && e.data.startsWith('transferred')) {
        wrote = true;
        writeFileSync(join(ctx, 'race.txt'), 'raced\n');
      }
    });
    expect(wrote).toBe(true);
    expect(during.tree['race.txt']).toBeUndefined();
    const after = await build(ctx);
    // The ignore file has no `!` exception any more: the journal names the one path.
    expect(after.line).toMatch(/listing: 1 changed path \(journal\)\n$/);
    expect(after.tree['race.txt']).toBe('raced\n');

    // A daemon restart has no journal (and no memory of the copy): the client walks.
    current = solveHandler(deps);
    expect((await build(ctx)).line).toMatch(/listing: \d+ entries\n$/);
    expect((await build(ctx)).line).toMatch(JOURNAL);
    rmSync(outside, { recursive: true, force: true });
  }, 300_000);

  test('a one-file edit lists only the paths the journal names; a new directory walks', async () => {
    const ctx = join(work, 'precise');
    mkdirSync(join(ctx, 'sub'), { recursive: true });
    mkdirSync(join(ctx, 'skip'));
    writeFileSync(join(ctx, 'a.txt'), 'a\n');
    writeFileSync(join(ctx, 'b.txt'), 'b\n');
    writeFileSync(join(ctx, 'sub', 'c.txt'), 'c\n');
    writeFileSync(join(ctx, 'skip', 'x.txt'), 'x\n');
    writeFileSync(join(ctx, '.dockerignore'), 'skip\n');
    expect((await build(ctx)).line).toMatch(/listing: 5 entries\n$/);
    expect((await build(ctx)).line).toMatch(JOURNAL);
    const steps: [string, () => void, RegExp, (tree: Record<string, string>) => void][] = [
      ['an edit', () => appendFileSync(join(ctx, 'a.txt'), 'more\n'), /^transferred 7 bytes \(1 files\) of \d+ bytes \(4 files\), listing: 1 changed path \(journal\)\n$/,
        (t) => expect(t['a.txt']).toBe('a\nmore\n')],
      ['a new file in a subdirectory (and the directory)', () => writeFileSync(join(ctx, 'sub', 'd.txt'), 'd\n'), /listing: 2 changed paths \(journal\)\n$/,
        (t) => expect(t['sub/d.txt']).toBe('d\n')],
      ['a delete', () => unlinkSync(join(ctx, 'b.txt')), /listing: 1 changed path \(journal\)\n$/, (t) => expect(t['b.txt']).toBeUndefined()],
      ['a rename', () => renameSync(join(ctx, 'sub', 'c.txt'), join(ctx, 'c.txt')), /listing: 3 changed paths \(journal\)\n$/,
        (t) => expect([t['c.txt'], t['sub/c.txt']]).toEqual(['c\n', undefined])],
      ['an excluded file', () => writeFileSync(join(ctx, 'skip', 'y.txt'), 'y\n'), JOURNAL, (t) => expect(t['skip/y.txt']).toBeUndefined()],
      ['a new directory', () => { mkdirSync(join(ctx, 'new')); writeFileSync(join(ctx, 'new', 'e.txt'), 'e\n'); }, /listing: \d+ entries\n$/,
        (t) => expect(t['new/e.txt']).toBe('e\n')],
      ['an edit in it', () => writeFileSync(join(ctx, 'new', 'e.txt'), 'E\n'), /listing: 1 changed path \(journal\)\n$/, (t) => expect(t['new/e.txt']).toBe('E\n')],
    ];
    for (const [what, change, line, check] of steps) {
      change();
      const built = await build(ctx);
      expect({ what, line: built.line }).toEqual({ what, line: expect.stringMatching(line) });
      check(built.tree);
      expect({ what, line: (await build(ctx)).line }).toEqual({ what, line: expect.stringMatching(JOURNAL) });
    }
  }, 300_000);

  test('an edit: the edited files come with the delta, unasked, and are never fetched', async () => {
    const ctx = join(work, 'ahead');
    mkdirSync(join(ctx, 'sub'), { recursive: true });
    writeFileSync(join(ctx, 'a.txt'), 'a\n');
    writeFileSync(join(ctx, 'b.txt'), 'b\n');
    writeFileSync(join(ctx, 'sub', 'c.txt'), 'c\n');
    expect((await build(ctx)).line).toMatch(/listing: \d+ entries\n$/);
    expect((await build(ctx)).line).toMatch(JOURNAL);

    appendFileSync(join(ctx, 'a.txt'), 'more\n');
    sent = [];
    const edited = await build(ctx);
    expect(edited.line).toMatch(/^transferred 7 bytes \(1 files\) of \d+ bytes \(3 files\), listing: 1 changed path \(journal\)\n$/);
    expect(edited.tree['a.txt']).toBe('a\nmore\n');
    expect(sent.filter((k) => k.startsWith('list'))).toEqual(['list delta contents']);
    expect(sent).not.toContain('fetch');
    // The client is asked before the front end starts (its progress comes after): the journal's
    // barrier and the request do not wait behind the parse and the solver's start.
    expect(sent.slice(0, 2)).toEqual(['accepted', 'list delta contents']);

    // Its time alone: the file comes anyway, and is written again, with the same bytes.
    utimesSync(join(ctx, 'b.txt'), 1_000_000, 1_000_000);
    sent = [];
    const touched = await build(ctx);
    expect(touched.line).toMatch(/^transferred 2 bytes \(1 files\) of \d+ bytes \(3 files\), listing: 1 changed path \(journal\)\n$/);
    expect(touched.tree['b.txt']).toBe('b\n');
    expect(sent).not.toContain('fetch');
    expect((await build(ctx)).line).toMatch(JOURNAL);

    // A delta the daemon cannot merge (b.txt became a directory after the journal named it): the
    // file sent with it is read and dropped, and the client walks.
    writeFileSync(join(ctx, 'a.txt'), 'A\n');
    writeFileSync(join(ctx, 'b.txt'), 'B\n');
    beforeDelta = () => {
      rmSync(join(ctx, 'b.txt'));
      mkdirSync(join(ctx, 'b.txt'));
      writeFileSync(join(ctx, 'b.txt', 'inside'), 'inside\n');
    };
    sent = [];
    const refused = await build(ctx);
    expect(beforeDelta).toBeUndefined();
    expect(sent.filter((k) => k.startsWith('list'))).toEqual(['list delta contents', 'list']);
    expect(refused.line).toMatch(/listing: \d+ entries\n$/);
    expect([refused.tree['a.txt'], refused.tree['b.txt/inside']]).toEqual(['A\n', 'inside\n']);
  }, 300_000);

  test('after a one-file edit, the COPY checksums updated at the journal\'s paths build what a walk would', async () => {
    const ctx = join(work, 'checksums');
    mkdirSync(join(ctx, 'sub'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(ctx, `f${i}`), `f${i}\n`);
    writeFileSync(join(ctx, 'keep.txt'), 'keep\n');
    writeFileSync(join(ctx, 'sub', 'g.txt'), 'g\n');
    const dockerfile = 'FROM scratch\nCOPY f* /files/\nCOPY keep.txt /keep\nCOPY sub /sub/\n';
    /** Step name → why it missed the cache (the build history's reading of the entries the checksums covered). */
    let misses = new Map<string, string>();
    const run = async (): Promise<{ line: string; tree: Record<string, string> }> => {
      misses = new Map();
      return build(ctx, (e) => {
        if (e.type === 'vertex' && e.cacheMiss !== undefined && e.name !== undefined) misses.set(e.name, e.cacheMiss);
      }, dockerfile);
    };
    expect((await run()).line).toMatch(/listing: \d+ entries\n$/);
    const steps: [string, () => void, (tree: Record<string, string>) => void][] = [
      ['an edit of a match', () => writeFileSync(join(ctx, 'f3'), 'F3\n'), (t) => {
        expect([t['files/f3'], t['files/f4']]).toEqual(['F3\n', 'f4\n']);
        expect(misses.get('[1/3] COPY f* /files/')).toBe('f3 changed');
      }],
      ['an edit back', () => writeFileSync(join(ctx, 'f3'), 'f3\n'), (t) => expect(t['files/f3']).toBe('f3\n')],
      ['a delete', () => unlinkSync(join(ctx, 'f4')), (t) => expect(t['files/f4']).toBeUndefined()],
      ['a new match', () => writeFileSync(join(ctx, 'f40'), 'f40\n'), (t) => expect(t['files/f40']).toBe('f40\n')],
      ['an edit in a literal directory', () => writeFileSync(join(ctx, 'sub', 'g.txt'), 'G\n'), (t) => expect([t['sub/g.txt'], t.keep]).toEqual(['G\n', 'keep\n'])],
      ['an edit of a literal file', () => writeFileSync(join(ctx, 'keep.txt'), 'KEEP\n'), (t) => expect(t.keep).toBe('KEEP\n')],
      ['a match turned symlink', () => { unlinkSync(join(ctx, 'f5')); symlinkSync('keep.txt', join(ctx, 'f5')); }, (t) => expect(t['files/f5']).toBe('KEEP\n')],
      ['its target edited', () => writeFileSync(join(ctx, 'keep.txt'), 'kept\n'), (t) => expect([t['files/f5'], t.keep]).toEqual(['kept\n', 'kept\n'])],
    ];
    for (const [what, change, check] of steps) {
      change();
      const built = await run();
      // A symlink in the delta makes the journal walk (context-journal.ts), and after it the next build.
      const walks = what.includes('symlink') || what.includes('target');
      expect({ what, line: built.line }).toEqual({ what, line: expect.stringMatching(walks ? /listing: / : /listing: \d+ changed paths? \(journal\)\n$/) });
      check(built.tree);
    }
  }, 300_000);

  test('a burst of events that may have overflowed the inotify queue makes every journal walk', async () => {
    current = solveHandler({ ...deps, contextJournal: { burstLimit: 200 } });
    const quiet = join(work, 'quiet');
    const busy = join(work, 'busy');
    mkdirSync(quiet);
    mkdirSync(busy);
    writeFileSync(join(quiet, 'q.txt'), 'q\n');
    writeFileSync(join(busy, 'b.txt'), 'b\n');
    await build(quiet);
    expect((await build(quiet)).line).toMatch(JOURNAL);
    await build(busy);
    // 300 files at once, without yielding: one read of the queue delivers them all.
    for (let i = 0; i < 300; i++) writeFileSync(join(busy, `f${i}`), '');
    const again = await build(quiet);
    expect(again.line).toMatch(/listing unchanged\n$/);
    expect((await build(quiet)).line).toMatch(JOURNAL);
    current = solveHandler(deps);
  }, 120_000);

  test('with TSBUILD_CONTEXT_JOURNAL=0 every build walks', async () => {
    const ctx = join(work, 'optout');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'o.txt'), 'o\n');
    process.env['TSBUILD_CONTEXT_JOURNAL'] = '0';
    try {
      await build(ctx);
      expect((await build(ctx)).line).toMatch(/listing unchanged\n$/);
    } finally {
      delete process.env['TSBUILD_CONTEXT_JOURNAL'];
    }
  }, 120_000);

  test('a tcp caller that names its context directory anyway gets no journal', async () => {
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const tcp = new H2Channel({ target: { kind: 'tcp', host: '127.0.0.1', port } });
    const unix = channel;
    channel = tcp;
    try {
      const ctx = join(work, 'tcp');
      mkdirSync(ctx);
      writeFileSync(join(ctx, 't.txt'), 't\n');
      await build(ctx);
      expect((await build(ctx)).line).toMatch(/listing unchanged\n$/);
    } finally {
      channel = unix;
      tcp.close();
    }
  }, 120_000);
});
