/**
 * The CLI's gRPC transport (src/client/h2) against a real @grpc/grpc-js server in this process
 * (the daemon's library), on real unix and TCP sockets (the unix socket through the client's own
 * HTTP/2 connection, connection.ts; TLS through node:http2): framing both ways (a message larger than
 * an HTTP/2 frame, messages split across and packed into DATA chunks), the status from trailers
 * (a daemon error with its ErrorDetail trailer becomes the same typed error; grpc-message is
 * percent-decoded), the bearer header, cancellation of a bidi call as the server sees it, and
 * TLS with a client certificate against the daemon's own TLS set-up (src/control/tls.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerUnaryCall, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import type { tsbuild } from '../../src/client/gen/control.js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { errorFromStatus } from '../../src/client/grpc-errors.js';
import { GrpcClient } from '../../src/client/grpc-client.js';
import { H2Channel } from '../../src/client/h2/channel.js';
import type { H2Call } from '../../src/client/h2/call.js';
import { frameMessage, MessageDecoder } from '../../src/client/h2/framing.js';
import { GrpcStatusError, type CallStatus } from '../../src/client/h2/status.js';
import { statusOf } from '../../src/control/errors.js';
import { bind, failure, unary } from './h2-test-helpers.js';
import { serverCredentials } from '../../src/control/tls.js';
import { TsbuildError, UserInputError } from '../../src/util/errors.js';
import { describeIf, haveBinary } from '../helpers/skip.js';
import { issueCert, makeCa } from '../helpers/tls-certs.js';

type InfoReq = tsbuild.control.v1.InfoRequest;
type InfoRes = tsbuild.control.v1.InfoResponse.$Properties;
type SolveReq = tsbuild.control.v1.SolveRequest;
type SolveRes = tsbuild.control.v1.SolveResponse.$Properties;

const BIG = 'x'.repeat(100_000);
const located = new UserInputError('DOCKERFILE_UNKNOWN_FLAG', 'unknown flag --chmodd for COPY (did you mean --chmod?) — 100% ünïcode', {
  location: { file: 'Dockerfile', line: 7, column: 3 }, sourceLine: 'COPY --chmodd=644 a /b', detail: ['more'],
});

/** The server's view of the calls, for the test to wait on. */
interface Seen { cancelledSolve: Promise<void> }

function startServer(): { server: Server; seen: Seen } {
  let onCancel: () => void = () => {};
  const seen: Seen = { cancelledSolve: new Promise<void>((r) => { onCancel = r; }) };
  const server = new Server();
  server.addService(ControlService, {
    // Echoes the bearer header; `version` is larger than one HTTP/2 DATA frame (16 KiB).
    Info: (call: ServerUnaryCall<InfoReq, InfoRes>, cb: sendUnaryData<InfoRes>) => {
      cb(null, { version: BIG, dataRoot: String(call.metadata.get('authorization')[0] ?? '') });
    },
    // Fails as the daemon does: statusOf puts the ErrorDetail in the tsbuild-error-bin trailer.
    ListImages: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(statusOf(located)),
    // Many small messages (packed into shared DATA frames), then OK.
    // With ref `fail`: 40 messages and then a failure status, in one burst.
    Status: (call: ServerWritableStream<{ ref?: string }, tsbuild.control.v1.StatusResponse.$Properties>) => {
      const fail = call.request.ref === 'fail';
      for (let i = 0; i < (fail ? 40 : 200); i++) call.write({ progress: { log: { vertex: `v${i}`, data: Buffer.from(`line ${i}`) } } });
      if (fail) call.emit('error', { code: Status.INTERNAL, details: 'failed after 40' });
      else call.end();
    },
    // Answers each message until the client goes away, and records that it did.
    Solve: (call: ServerDuplexStream<SolveReq, SolveRes>) => {
      call.on('cancelled', () => onCancel());
      call.on('data', () => call.write({ accepted: { ref: 'r1' } }));
    },
  });
  return { server, seen };
}

describe('framing', () => {
  test('messages split across chunks at every byte, and several in one chunk, come out whole and in order', () => {
    const a = Buffer.from('first message');
    const b = Buffer.alloc(40_000, 7);
    const c = Buffer.alloc(0);
    const wire = Buffer.concat([frameMessage(a), frameMessage(b), frameMessage(c)]);
    const bytewise = new MessageDecoder();
    const out: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) out.push(...bytewise.push(wire.subarray(i, i + 1)));
    expect(out).toEqual([a, b, c]);
    expect(bytewise.pending).toBe(false);
    expect(new MessageDecoder().push(wire)).toEqual([a, b, c]);
    const cut = new MessageDecoder();
    expect(cut.push(wire.subarray(0, 100))).toEqual([a]);
    expect(cut.pending).toBe(true);
  });

  test('a compressed message (never negotiated) is refused', () => {
    const f = frameMessage(Buffer.from('z'));
    f[0] = 1;
    expect(() => new MessageDecoder().push(f)).toThrow(/compressed/);
  });
});

describe('h2 transport against a grpc-js server on a unix socket', () => {
  let dir: string;
  let server: Server;
  let seen: Seen;
  let ch: H2Channel;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-h2-'));
    ({ server, seen } = startServer());
    await bind(server, `unix://${join(dir, 's.sock')}`, ServerCredentials.createInsecure());
    ch = new H2Channel({ target: { kind: 'unix', path: join(dir, 's.sock') }, headers: { authorization: 'Bearer t0k' } });
  });
  afterAll(async () => {
    ch?.close();
    server?.forceShutdown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a unary answer larger than one HTTP/2 frame, and the bearer header', async () => {
    const res = await unary(ch, ControlService.Info, {});
    expect(res.version).toBe(BIG);
    expect(res.dataRoot).toBe('Bearer t0k');
  });

  test('a daemon error with its ErrorDetail trailer becomes the same typed error', async () => {
    const err = await failure(unary(ch, ControlService.ListImages, {}));
    const sent = statusOf(located);
    expect(err).toBeInstanceOf(GrpcStatusError);
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.details).toBe(sent.details); // grpc-message, percent-decoded
    const typed = errorFromStatus(err) as UserInputError;
    expect(typed).toBeInstanceOf(UserInputError);
    expect({ code: typed.code, message: typed.message, location: typed.location, sourceLine: typed.sourceLine, detail: typed.detail })
      .toEqual({ code: located.code, message: located.message, location: located.location, sourceLine: located.sourceLine, detail: located.detail });
    expect(typed.describe()).toBe(located.describe());
  });

  test('an unknown method is UNIMPLEMENTED (NOT_IMPLEMENTED for callers)', async () => {
    const err = await failure(unary(ch, ControlService.Check, {}));
    expect(err.code).toBe(Status.UNIMPLEMENTED);
    expect((errorFromStatus(err) as TsbuildError).code).toBe('NOT_IMPLEMENTED');
  });

  test('a server stream delivers every message in order, then ends OK', async () => {
    const call = ch.call(ControlService.Status.path, ControlService.Status);
    call.end({ ref: 'x' });
    const vertices: string[] = [];
    for await (const m of call as AsyncIterable<tsbuild.control.v1.StatusResponse>) vertices.push(m.progress?.log?.vertex ?? '');
    expect(vertices).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    expect((call.status as CallStatus).code).toBe(Status.OK);
  });

  test('a failure status after a burst of messages: a slow reader still gets every message, then the failure', async () => {
    const call = ch.call(ControlService.Status.path, ControlService.Status);
    call.end({ ref: 'fail' });
    const vertices: string[] = [];
    const err = await failure((async () => {
      for await (const m of call as AsyncIterable<tsbuild.control.v1.StatusResponse>) {
        vertices.push(m.progress?.log?.vertex ?? '');
        // Behind: the trailers arrive while messages are still buffered (destroying the call dropped them).
        await new Promise((r) => setTimeout(r, 2));
      }
    })());
    expect(vertices).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`));
    expect([err.code, err.details]).toEqual([Status.INTERNAL, 'failed after 40']);
    expect((call.status as CallStatus).code).toBe(Status.INTERNAL);
  });

  test('cancelling a bidi call: the server sees the call cancelled, the client gets CANCELLED', async () => {
    const call: H2Call<SolveReq | tsbuild.control.v1.SolveRequest.$Properties, SolveRes> = ch.call(ControlService.Solve.path, ControlService.Solve);
    const first = new Promise<SolveRes>((r) => call.once('data', r));
    const ended = failure(new Promise((resolve, reject) => { call.on('error', reject); call.on('end', resolve); }));
    call.write({ cancel: { reason: 'hello' } });
    expect((await first).accepted?.ref).toBe('r1');
    call.cancel();
    expect((await ended).code).toBe(Status.CANCELLED);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([seen.cancelledSolve, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('the server never saw the cancellation')), 10_000); })]);
    clearTimeout(timer);
  });

  test('GrpcClient on a socket nobody listens on fails DAEMON_UNAVAILABLE, naming the cause, unary and Solve alike', async () => {
    const c = await GrpcClient.connect({ address: `unix://${join(dir, 'nobody.sock')}` });
    try {
      const unavailable = {
        code: 'DAEMON_UNAVAILABLE', message: expect.stringMatching(/^cannot reach tsbuildd: .*connect ENOENT .*nobody\.sock/) as unknown as string,
      };
      await expect(c.listImages({ signal: new AbortController().signal })).rejects.toMatchObject(unavailable);
      // The Solve stream fails the same way (the refusal may come while `start` is being written).
      const build = c.build({
        contextDir: dir, dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\n').toString('base64') }, buildArgs: {}, labels: {},
        noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [],
      }, { signal: new AbortController().signal });
      await expect(build).rejects.toMatchObject(unavailable);
    } finally {
      await c.close();
    }
  });
});

describeIf(haveBinary('openssl'), 'needs openssl (Debian package openssl)', 'h2 transport over TCP with the daemon\'s mutual TLS', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let pki: { ca: Buffer; cert: Buffer; key: Buffer; strangerCert: Buffer; strangerKey: Buffer };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-h2-tls-'));
    const ca = makeCa(dir, 'ca');
    const srv = issueCert(ca, dir, 'server', { cn: 'tsbuildd', ip: '127.0.0.1', use: 'server' });
    const cli = issueCert(ca, dir, 'client', { cn: 'ci-runner-1', use: 'client' });
    const stranger = issueCert(makeCa(dir, 'other-ca'), dir, 'stranger', { cn: 'stranger', use: 'client' });
    pki = {
      ca: readFileSync(ca.certFile), cert: readFileSync(cli.certFile), key: readFileSync(cli.keyFile),
      strangerCert: readFileSync(stranger.certFile), strangerKey: readFileSync(stranger.keyFile),
    };
    ({ server } = startServer());
    port = await bind(server, '127.0.0.1:0', await serverCredentials({ certFile: srv.certFile, keyFile: srv.keyFile, caFile: ca.certFile }));
  });
  afterAll(async () => {
    server?.forceShutdown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a client certificate the CA signed is served', async () => {
    const ch = new H2Channel({ target: { kind: 'tcp', host: '127.0.0.1', port }, tls: { ca: pki.ca, cert: pki.cert, key: pki.key } });
    try {
      expect((await unary(ch, ControlService.Info, {})).version).toBe(BIG);
    } finally {
      ch.close();
    }
  });

  test.each([
    ['no certificate', {}],
    ['a certificate another CA signed', { strangerCert: true }],
  ])('%s: the handshake fails and the call is UNAVAILABLE', async (_name, o) => {
    const tls = 'strangerCert' in o ? { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey } : { ca: pki.ca };
    const ch = new H2Channel({ target: { kind: 'tcp', host: '127.0.0.1', port }, tls });
    try {
      const e = await failure(unary(ch, ControlService.Info, {}));
      expect(e.code).toBe(Status.UNAVAILABLE);
    } finally {
      ch.close();
    }
  });
});
