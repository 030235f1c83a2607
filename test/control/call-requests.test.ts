/**
 * A bidirectional call's requests as handlers read them (call-requests.ts), through calls.ts on a
 * real gRPC server and client: a call that fails while a read is pending and a response is still
 * being written ends with its status (it used to hang: the stream's own iterator destroyed the
 * call before the status went out — Solve's `build --pull` without credentials, seen with e3deaa0);
 * a client's half-close ends the requests and the responses still go out; a cancelled call ends
 * the pending read, and a send whose write flow control holds.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Metadata, Server, ServerCredentials, credentials, status as Status } from '@grpc/grpc-js';
import type { ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import type { tsbuild } from '../../src/client/gen/control.js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { Authorizer } from '../../src/control/auth.js';
import { adaptService } from '../../src/control/calls.js';
import { DaemonErrors, statusOf } from '../../src/control/errors.js';
import { InFlightCalls } from '../../src/control/in-flight.js';
import type { BidiStreamHandler, ServiceHandlers } from '../../src/control/types.js';
import { CancelledError, UserInputError } from '../../src/util/errors.js';

type SolveRequest = tsbuild.control.v1.SolveRequest;
type SolveResponse = tsbuild.control.v1.SolveResponse;

let dir = '';
let server: Server;
let client: Client;
/** What the next Solve call runs. */
let solve: BidiStreamHandler<SolveRequest, tsbuild.control.v1.SolveResponse.$Properties> = () => Promise.resolve();

beforeAll(async () => {
  const reject = (): Promise<never> => Promise.reject(DaemonErrors.notImplemented('test'));
  const handlers: ServiceHandlers<typeof ControlService> = {
    Solve: (requests, send, ctx) => solve(requests, send, ctx),
    Status: reject, ListBuilds: reject, DiskUsage: reject, Prune: reject, ListImages: reject, RemoveImage: reject,
    TagImage: reject, Inspect: reject, History: reject, Info: reject, Pull: reject, Push: reject, Load: reject, Import: reject,
    Check: reject, Repair: reject, Save: reject,
  };
  server = new Server();
  server.addService(ControlService, adaptService(ControlService, handlers, { authorizer: new Authorizer(undefined), inFlight: new InFlightCalls() }));
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-call-requests-'));
  const addr = `unix://${join(dir, 'd.sock')}`;
  await new Promise<void>((res, rej) => server.bindAsync(addr, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  client = new Client(addr, credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await new Promise<void>((r) => server.tryShutdown(() => r()));
  await rm(dir, { recursive: true, force: true });
});

/** A Solve call (10 s deadline), its responses and its status. */
function call(): { readonly stream: ClientDuplexStream<tsbuild.control.v1.ISolveRequest, SolveResponse>; readonly got: SolveResponse[]; readonly status: Promise<StatusObject> } {
  const m = ControlService.Solve;
  const stream = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, new Metadata(), { deadline: Date.now() + 10_000 });
  const got: SolveResponse[] = [];
  stream.on('data', (r: SolveResponse) => got.push(r));
  stream.on('error', () => undefined);
  return { stream, got, status: new Promise((resolve) => stream.on('status', resolve)) };
}

test('a call that fails while a read is pending and a response is being written ends with its status', async () => {
  let pending: Promise<unknown> | undefined;
  solve = async (requests, send) => {
    const it = requests[Symbol.asyncIterator]();
    await it.next();
    // A read waiting for the client, as Solve's inbox has once its build runs.
    pending = it.next();
    pending.catch(() => undefined);
    // A response still being written as the handler fails: larger than the HTTP/2 window, so its
    // write completes only once the client has read most of it (after the handler's end).
    void send({ output: { outputIndex: 0, data: Buffer.alloc(3 << 20, 7), eof: false } }).catch(() => undefined);
    throw new UserInputError('TEST_FAILED', 'the build failed');
  };
  const c = call();
  c.stream.write({ start: {} });
  const status = await c.status;
  expect([status.code, status.details]).toEqual([statusOf(new UserInputError('TEST_FAILED', 'the build failed')).code, expect.stringContaining('the build failed')]);
  expect(status.code).not.toBe(Status.DEADLINE_EXCEEDED);
  expect(c.got.map((r) => r.output?.data?.length)).toEqual([3 << 20]);
  // The read pending when the call failed is not left waiting.
  await expect(pending).rejects.toBeDefined();
  c.stream.end();
}, 30_000);

test('the client\'s half-close ends the requests; the responses and the status still go out', async () => {
  solve = async (requests, send) => {
    const refs: string[] = [];
    for await (const r of requests) refs.push(r.start?.ref ?? '');
    await send({ accepted: { ref: refs.join(',') } });
  };
  const c = call();
  for (const ref of ['a', 'b', 'c']) c.stream.write({ start: { ref } });
  c.stream.end();
  const status = await c.status;
  expect(status.code).toBe(Status.OK);
  expect(c.got.map((r) => r.accepted?.ref)).toEqual(['a,b,c']);
}, 30_000);

test('a cancelled call ends the pending read; the handler hears why from clientGone', async () => {
  let read: Promise<IteratorResult<SolveRequest>> | undefined;
  let gone: Promise<boolean> | undefined;
  const reading = new Promise<void>((started) => {
    solve = async (requests, _send, ctx) => {
      const it = requests[Symbol.asyncIterator]();
      await it.next();
      read = it.next();
      gone = new Promise((r) => (ctx.clientGone.aborted ? r(true) : ctx.clientGone.addEventListener('abort', () => r(true), { once: true })));
      started();
      await read.catch(() => undefined);
      await gone;
    };
  });
  const c = call();
  c.stream.write({ start: {} });
  await reading;
  c.stream.cancel();
  // The end of the requests (grpc-js half-closes a cancelled call's stream) or a CancelledError.
  expect(await (read ?? Promise.reject(new Error('no read'))).then((r) => r.done, (e: unknown) => e instanceof CancelledError)).toBe(true);
  expect(await gone).toBe(true);
  expect((await c.status).code).toBe(Status.CANCELLED);
}, 30_000);

test('a send held by flow control rejects as cancelled when the client cancels, not as delivered', async () => {
  let held: Promise<unknown> | undefined;
  const sending = new Promise<void>((started) => {
    solve = async (requests, send) => {
      const it = requests[Symbol.asyncIterator]();
      await it.next();
      // More than the HTTP/2 window, to a client that reads nothing: grpc-js holds the write.
      held = send({ output: { outputIndex: 0, data: Buffer.alloc(3 << 20, 7), eof: false } }).then(() => 'sent', (e: unknown) => e);
      started();
      await held;
    };
  });
  const c = call();
  c.stream.pause();
  c.stream.write({ start: {} });
  await sending;
  c.stream.cancel();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([held, new Promise((r) => (timer = setTimeout(() => r('still pending after 5 s'), 5000)))]);
  clearTimeout(timer);
  expect(outcome).toBeInstanceOf(CancelledError);
  expect((await c.status).code).toBe(Status.CANCELLED);
}, 30_000);
