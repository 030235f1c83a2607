/**
 * The client's side of ListFiles.send_contents: asked by a daemon whose copy is empty, the client
 * sends its small files right after the last listing batch (which says contents_follow), unasked,
 * in listing order — a file over 256 KiB waits for a fetch; asked without it, it sends no file
 * before a fetch. A fake daemon (a plain gRPC server) records what the real client sends, then
 * ends the build with an error.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { tsbuild } from '../../src/client/gen/control.js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { solveOverGrpc } from '../../src/client/grpc-solve.js';
import { H2Channel } from '../../src/client/h2/channel.js';
import type { BuildRequest } from '../../src/client/types.js';

type SolveReq = tsbuild.control.v1.SolveRequest;
type SolveRes = tsbuild.control.v1.SolveResponse.$Properties;

let dir: string;
let ctx: string;
let server: Server;
let channel: H2Channel;
/** What the next Solve's files.list says about contents. */
let sendContents = false;
/** What the client sent after `start`, in order, for the last Solve. */
let seen: SolveReq[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-follow-'));
  ctx = join(dir, 'ctx');
  await mkdir(join(ctx, 'sub'), { recursive: true });
  await writeFile(join(ctx, 'a.txt'), 'aa\n');
  await writeFile(join(ctx, 'big.bin'), Buffer.alloc(300 * 1024, 7));
  await writeFile(join(ctx, 'sub', 'b.txt'), 'bbb\n');
  server = new Server();
  server.addService(ControlService, {
    Solve: (call: ServerDuplexStream<SolveReq, SolveRes>) => {
      seen = [];
      // Ends the build once the listing is in and the unasked files have had time to come.
      let timer: NodeJS.Timeout | undefined;
      call.on('data', (m: SolveReq) => {
        if (m.start) {
          call.write({ files: { id: 1, list: { includePatterns: [], excludePatterns: [], followPaths: [], knownListingDigest: '', ...(sendContents ? { sendContents: true } : {}) } } });
          return;
        }
        seen.push(m);
        if (m.contextEntries?.done) {
          timer = setTimeout(() => {
            call.write({ error: { code: 'TEST_DONE', message: 'seen enough' } });
            call.end();
          }, 300);
        }
      });
      call.on('error', () => clearTimeout(timer));
    },
  });
  await new Promise<void>((res, rej) => server.bindAsync(`unix://${join(dir, 's.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  channel = new H2Channel({ target: { kind: 'unix', path: join(dir, 's.sock') } });
});

afterAll(async () => {
  channel?.close();
  if (server) await new Promise<void>((r) => server.tryShutdown(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function request(): BuildRequest {
  return {
    contextDir: ctx,
    dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\nCOPY . /\n').toString('base64') },
    buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [],
  };
}

async function build(): Promise<{ entries: tsbuild.control.v1.IFileStat[]; lastBatch: tsbuild.control.v1.IContextEntries | undefined; chunks: { path: string; bytes: number; eof: boolean }[] }> {
  await expect(solveOverGrpc(channel, request(), { signal: new AbortController().signal })).rejects.toMatchObject({ message: expect.stringContaining('seen enough') });
  const entries = seen.flatMap((m) => m.contextEntries?.entries ?? []);
  const pathOf = new Map(entries.map((e) => [e.fileId ?? 0, e.path ?? '']));
  const lastBatch = seen.map((m) => m.contextEntries).filter((c) => c?.done)[0] ?? undefined;
  const chunks = seen.flatMap((m) => [...(m.fileChunks?.chunks ?? []), ...(m.fileChunk ? [m.fileChunk] : [])])
    .map((c) => ({ path: pathOf.get(c.fileId ?? 0) ?? '?', bytes: c.data?.length ?? 0, eof: c.eof ?? false }));
  return { entries, lastBatch, chunks };
}

test('asked to send contents, the client sends its small files after the listing, unasked, in listing order', async () => {
  sendContents = true;
  const { entries, lastBatch, chunks } = await build();
  expect(entries.map((e) => e.path)).toEqual(['a.txt', 'big.bin', 'sub', 'sub/b.txt']);
  expect(lastBatch?.contentsFollow).toBe(true);
  // Each small file whole, after the last listing batch; the large one only when fetched.
  expect(chunks).toEqual([{ path: 'a.txt', bytes: 3, eof: true }, { path: 'sub/b.txt', bytes: 4, eof: true }]);
  const lastListing = seen.findIndex((m) => m.contextEntries?.done);
  expect(seen.findIndex((m) => m.fileChunks !== null && m.fileChunks !== undefined)).toBeGreaterThan(lastListing);
});

test('not asked, the client sends no file before a fetch', async () => {
  sendContents = false;
  const { lastBatch, chunks } = await build();
  expect(lastBatch?.contentsFollow ?? false).toBe(false);
  expect(chunks).toEqual([]);
});
