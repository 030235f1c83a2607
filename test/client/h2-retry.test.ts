/**
 * Transparent retry of refused streams (src/client/h2/retry-stream.ts) against node:http2 servers
 * that refuse on purpose: an RST_STREAM with REFUSED_STREAM before any answer, and a GOAWAY that
 * leaves the stream unprocessed. The call succeeds on a later stream with its request sent again
 * whole; a server that always refuses ends the call UNAVAILABLE after a bounded number of tries.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants as h2c, createServer as createH2Server, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { H2Channel } from '../../src/client/h2/channel.js';
import { frameMessage, MessageDecoder } from '../../src/client/h2/framing.js';
import { failure, unary } from './h2-test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-h2-retry-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Answers Info with the request's first tag (ListImages' filter would do as well: any echo). */
function answer(stream: ServerHttp2Stream, body: Buffer): void {
  const [req] = new MessageDecoder().push(body);
  const got = req ? ControlService.Info.requestDeserialize(req) : undefined;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frameMessage(ControlService.Info.responseSerialize({ version: `echo:${JSON.stringify(got ?? null)}` })));
}

const sessionsOf = new WeakMap<Http2Server, Http2Session[]>();

/** A node:http2 server on a unix socket; `onStream` sees each stream with its whole request body. */
async function server(name: string, onStream: (stream: ServerHttp2Stream, body: Buffer, n: number) => void): Promise<{ server: Http2Server; ch: H2Channel; streams: () => number }> {
  const sock = join(dir, name);
  const s = createH2Server();
  let n = 0;
  s.on('stream', (stream) => {
    const i = ++n;
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => onStream(stream, Buffer.concat(chunks), i));
    stream.on('error', () => {});
  });
  const sessions: Http2Session[] = [];
  sessionsOf.set(s, sessions);
  s.on('session', (session) => sessions.push(session));
  await new Promise<void>((r) => s.listen(sock, r));
  return { server: s, ch: new H2Channel({ target: { kind: 'unix', path: sock } }), streams: () => n };
}

async function close(s: { server: Http2Server; ch: H2Channel }): Promise<void> {
  s.ch.close();
  const closed = new Promise((r) => s.server.close(r));
  // node's http2 server stops reading a connection after its own GOAWAY, so it never sees the
  // client close it: end such sessions here.
  for (const session of sessionsOf.get(s.server) ?? []) if (!session.closed) session.destroy();
  await closed;
}

test('a stream refused with RST_STREAM before any answer is sent again, request and all', async () => {
  const s = await server('rst.sock', (stream, body, n) => {
    if (n <= 2) stream.close(h2c.NGHTTP2_REFUSED_STREAM);
    else answer(stream, body);
  });
  try {
    const res = await unary(s.ch, ControlService.Info, {});
    expect(res.version).toBe('echo:{}');
    expect(s.streams()).toBe(3);
  } finally {
    await close(s);
  }
});

test('a stream left unprocessed by a GOAWAY goes to a new connection', async () => {
  const sessions: unknown[] = [];
  const s = await server('goaway.sock', (stream, body) => answer(stream, body));
  // The first connection says at once that it will process no stream (GOAWAY, last stream 0).
  s.server.on('session', (session) => {
    sessions.push(session);
    if (sessions.length === 1) session.goaway(h2c.NGHTTP2_NO_ERROR, 0);
  });
  try {
    expect((await unary(s.ch, ControlService.Info, {})).version).toBe('echo:{}');
    expect([sessions.length, s.streams()]).toEqual([2, 1]);
  } finally {
    await close(s);
  }
});

test('a server that refuses every stream: UNAVAILABLE (REFUSED_STREAM) after 5 tries', async () => {
  const s = await server('always.sock', (stream) => stream.close(h2c.NGHTTP2_REFUSED_STREAM));
  try {
    const e = await failure(unary(s.ch, ControlService.Info, {}));
    expect([e.code, e.details]).toEqual([Status.UNAVAILABLE, expect.stringContaining('REFUSED_STREAM')]);
    expect(s.streams()).toBe(5);
  } finally {
    await close(s);
  }
});

test('an answered stream is never sent again: a reset after the headers fails the call', async () => {
  const s = await server('late.sock', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    setTimeout(() => stream.close(h2c.NGHTTP2_REFUSED_STREAM), 20);
  });
  try {
    const e = await failure(unary(s.ch, ControlService.Info, {}));
    expect(e.code).not.toBe(Status.OK);
    expect(s.streams()).toBe(1);
  } finally {
    await close(s);
  }
});
