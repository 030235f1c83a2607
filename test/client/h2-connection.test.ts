/**
 * The client's own HTTP/2 connection (src/client/h2/connection.ts, on node:net) against real
 * servers on unix sockets (and once on plain TCP): grpc-js (the daemon's library) for flow control
 * both ways (24 MiB up in 1 MiB messages; 24 MiB down to a slow reader, the stream window reopened
 * as it reads), more concurrent calls than the server's SETTINGS_MAX_CONCURRENT_STREAMS, the
 * server's keepalive PINGs answered, GOAWAY (the call in flight finishes, the next one goes to a
 * new connection) and trailers too large for one frame (CONTINUATION); a raw peer that grants
 * small windows and records any DATA beyond them or above its frame size; node:http2 with maximal
 * padding (padded DATA and HEADERS); and raw sockets that break the protocol (an HTTP/1.1 answer,
 * an undecodable header block, a dropped connection), which fail the call UNAVAILABLE naming why —
 * after a GOAWAY with the right error code.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants as h2c, createServer as createH2Server } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { ServerReadableStream, ServerUnaryCall, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import type { tsbuild } from '../../src/client/gen/control.js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { H2Channel } from '../../src/client/h2/channel.js';
import { frameMessage, MessageDecoder } from '../../src/client/h2/framing.js';
import { encodeHeaders } from '../../src/client/h2/hpack.js';
import { FRAME, FrameReader, H2_ERROR, PREFACE, frame, type Frame } from '../../src/client/h2/frames.js';
import { bind, failure, unary } from './h2-test-helpers.js';

type LoadReq = tsbuild.control.v1.LoadRequest;
type LoadRes = tsbuild.control.v1.LoadResponse.$Properties;
type SaveRes = tsbuild.control.v1.SaveResponse;
type InfoRes = tsbuild.control.v1.InfoResponse.$Properties;

const MiB = 1024 * 1024;
const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const sha256 = (chunks: readonly Buffer[]): string => chunks.reduce((h, c) => h.update(c), createHash('sha256')).digest('hex');
/** The bytes Save sends: 1 MiB chunks of one random MiB, each with its index in front. */
const SAVE_BLOCK = randomBytes(MiB - 4);
const saveChunk = (i: number): Buffer => Buffer.concat([Buffer.from([i >> 24, (i >> 16) & 255, (i >> 8) & 255, i & 255]), SAVE_BLOCK]);

function grpcServer(options: Record<string, number>, version = 'A'): Server {
  const server = new Server(options);
  server.addService(ControlService, {
    // Answers with the number of bytes and their digest.
    Load: (call: ServerReadableStream<LoadReq, LoadRes>, cb: sendUnaryData<LoadRes>) => {
      const chunks: Buffer[] = [];
      call.on('data', (m: LoadReq) => chunks.push(Buffer.from(m.data?.data ?? [])));
      call.on('end', () => cb(null, { images: [{ name: String(chunks.reduce((n, c) => n + c.length, 0)), manifestDigest: sha256(chunks) }] }));
    },
    // `names[0]` 1 MiB chunks, written as fast as grpc-js takes them, then the summary.
    Save: (call: ServerWritableStream<tsbuild.control.v1.SaveRequest, tsbuild.control.v1.SaveResponse.$Properties>) => {
      const n = Number(call.request.names[0]);
      for (let i = 0; i < n; i++) call.write({ data: { data: saveChunk(i) } });
      call.write({ summary: {} });
      call.end();
    },
    // Thirty messages 100 ms apart (3 s): a call that outlives many keepalive PINGs, and the
    // keepalive timeout below three times over.
    Status: (call: ServerWritableStream<unknown, tsbuild.control.v1.StatusResponse.$Properties>) => {
      let i = 0;
      const timer = setInterval(() => {
        call.write({ progress: { log: { vertex: `v${i}`, data: Buffer.from('x') } } });
        if (++i === 30) {
          clearInterval(timer);
          call.end();
        }
      }, 100);
    },
    // Answers after 200 ms, so that calls overlap.
    Info: (_call: ServerUnaryCall<unknown, InfoRes>, cb: sendUnaryData<InfoRes>) => {
      setTimeout(() => cb(null, { version }), 200);
    },
    // Fails with a trailer of 40,000 octets: more than one frame (HEADERS + CONTINUATION).
    ListImages: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
      const metadata = new Metadata();
      metadata.set('x-big', 'b'.repeat(40_000));
      cb({ code: Status.FAILED_PRECONDITION, details: 'big trailer', metadata });
    },
  });
  return server;
}

function readStatus(ch: H2Channel): Promise<string[]> {
  return (async () => {
    const call = ch.call(ControlService.Status.path, ControlService.Status);
    call.end({ ref: 'x' });
    const got: string[] = [];
    for await (const m of call as AsyncIterable<tsbuild.control.v1.StatusResponse>) got.push(m.progress?.log?.vertex ?? '');
    return got;
  })();
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-h2c-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('against grpc-js', () => {
  let server: Server;
  let ch: H2Channel;

  beforeAll(async () => {
    // Keepalive PINGs every 50 ms, the connection dropped when one is not answered within 1 s
    // (not less: the client shares this process with the server, and on a loaded machine a 24 MiB
    // transfer's GC can hold both event loops for a few hundred ms; CI dropped at 200 ms).
    server = grpcServer({ 'grpc.keepalive_time_ms': 50, 'grpc.keepalive_timeout_ms': 1000 });
    await bind(server, `unix://${join(dir, 'a.sock')}`, ServerCredentials.createInsecure());
    ch = new H2Channel({ target: { kind: 'unix', path: join(dir, 'a.sock') } });
  });
  afterAll(() => {
    ch?.close();
    server?.forceShutdown();
  });

  test('24 MiB sent in 1 MiB messages arrive whole (DATA within the server\'s windows)', async () => {
    const chunks = Array.from({ length: 24 }, () => randomBytes(MiB));
    const res = await new Promise<LoadRes>((resolve, reject) => {
      const call = ch.call(ControlService.Load.path, ControlService.Load);
      call.on('data', resolve);
      call.on('error', reject);
      void (async () => {
        for (const data of chunks) if (!call.write({ data: { data } })) await new Promise((r) => call.once('drain', r));
        call.end();
      })();
    });
    expect(res.images?.[0]).toMatchObject({ name: String(24 * MiB), manifestDigest: sha256(chunks) });
  }, 60_000);

  test('24 MiB received by a slow reader arrive whole and in order (the stream window reopens as it reads)', async () => {
    const call = ch.call(ControlService.Save.path, ControlService.Save);
    call.end({ names: ['24'] });
    const got: Buffer[] = [];
    for await (const m of call as AsyncIterable<SaveRes>) {
      if (!m.data) continue;
      got.push(Buffer.from(m.data.data ?? []));
      if (got.length % 4 === 0) await new Promise((r) => setTimeout(r, 50)); // the reader falls behind
    }
    expect(got.length).toBe(24);
    expect(sha256(got)).toBe(sha256(Array.from({ length: 24 }, (_, i) => saveChunk(i))));
  }, 60_000);

  test('a call outliving many keepalive PINGs ends OK (each PING answered)', async () => {
    expect(await readStatus(ch)).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`));
  });

  test('trailers larger than one frame (CONTINUATION) arrive whole', async () => {
    const e = await failure(unary(ch, ControlService.ListImages, {}));
    expect([e.code, e.details, e.metadata.get('x-big')]).toEqual([Status.FAILED_PRECONDITION, 'big trailer', ['b'.repeat(40_000)]]);
  });
});

test('more concurrent calls than the server\'s SETTINGS_MAX_CONCURRENT_STREAMS wait for a slot', async () => {
  const server = grpcServer({ 'grpc.max_concurrent_streams': 1 });
  await bind(server, `unix://${join(dir, 'one.sock')}`, ServerCredentials.createInsecure());
  const ch = new H2Channel({ target: { kind: 'unix', path: join(dir, 'one.sock') } });
  try {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 4 }, () => unary(ch, ControlService.Info, {})));
    expect(answers.map((a) => a.version)).toEqual(['A', 'A', 'A', 'A']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 200 - 50); // one at a time
  } finally {
    ch.close();
    server.forceShutdown();
  }
});

test('plain TCP (tcp://HOST:PORT without TLS) works the same, a 3 MiB message up and 3 MiB down', async () => {
  const server = grpcServer({});
  const port = await bind(server, '127.0.0.1:0', ServerCredentials.createInsecure());
  const ch = new H2Channel({ target: { kind: 'tcp', host: '127.0.0.1', port } });
  try {
    const chunk = randomBytes(3 * MiB);
    const up = await unary(ch, ControlService.Load, { data: { data: chunk } });
    expect(up.images?.[0]).toMatchObject({ name: String(3 * MiB), manifestDigest: sha256([chunk]) });
    const call = ch.call(ControlService.Save.path, ControlService.Save);
    call.end({ names: ['3'] });
    const down: Buffer[] = [];
    for await (const m of call as AsyncIterable<SaveRes>) if (m.data) down.push(Buffer.from(m.data.data ?? []));
    expect(sha256(down)).toBe(sha256([0, 1, 2].map(saveChunk)));
  } finally {
    ch.close();
    server.forceShutdown();
  }
});

test('GOAWAY: the call in flight finishes; the next call goes to a new connection', async () => {
  const sock = join(dir, 'g.sock');
  const first = grpcServer({}, 'first');
  await bind(first, `unix://${sock}`, ServerCredentials.createInsecure());
  const ch = new H2Channel({ target: { kind: 'unix', path: sock } });
  let second: Server | undefined;
  try {
    expect((await unary(ch, ControlService.Info, {})).version).toBe('first');
    const inFlight = readStatus(ch);
    await new Promise((r) => setTimeout(r, 150));
    // Stops listening (the socket file goes) and sends GOAWAY; the call in flight may finish.
    const shutDown = new Promise<void>((resolve, reject) => first.tryShutdown((e) => (e ? reject(e) : resolve())));
    await new Promise((r) => setTimeout(r, 100));
    second = grpcServer({}, 'second');
    await bind(second, `unix://${sock}`, ServerCredentials.createInsecure());
    expect((await unary(ch, ControlService.Info, {})).version).toBe('second');
    expect(await inFlight).toHaveLength(30);
    await shutDown;
  } finally {
    ch.close();
    first.forceShutdown();
    second?.forceShutdown();
  }
}, 20_000);

test('padded DATA and HEADERS (node:http2 with maximal padding) are read without their padding', async () => {
  const sock = join(dir, 'pad.sock');
  const server = createH2Server({ paddingStrategy: h2c.PADDING_STRATEGY_MAX });
  server.on('stream', (stream) => {
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frameMessage(ControlService.Info.responseSerialize({ version: 'padded'.repeat(5000) })));
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const ch = new H2Channel({ target: { kind: 'unix', path: sock } });
  try {
    expect((await unary(ch, ControlService.Info, {})).version).toBe('padded'.repeat(5000));
  } finally {
    ch.close();
    await new Promise((r) => server.close(r));
  }
});

/** How a strict server grants its windows. */
interface Grants {
  /** SETTINGS_INITIAL_WINDOW_SIZE, when not the default (in force once the client acknowledges it). */
  readonly initialWindow?: number;
  /** A WINDOW_UPDATE once this much was read on a stream, and on the connection. */
  readonly streamStep: number;
  readonly connStep: number;
}

/**
 * A raw HTTP/2 server that grants its windows sparingly — a WINDOW_UPDATE a turn after it has read
 * `streamStep` octets of a stream, `connStep` of the connection — and records every DATA frame
 * beyond a window or above 16,384 octets. It answers Load with the size and digest it got.
 */
async function strictServer(sock: string, g: Grants): Promise<{ server: NetServer; violations: string[] }> {
  const violations: string[] = [];
  const server = createNetServer((s) => {
    const reader = new FrameReader(1 << 24);
    let head = Buffer.alloc(0);
    const conn = { window: 65_535, unGranted: 0 };
    const streams = new Map<number, { window: number; unGranted: number; body: Buffer[] }>();
    let initial = 65_535;
    const grant = (id: number, w: { window: number; unGranted: number }, step: number): void => {
      if (w.unGranted < step) return;
      const n = w.unGranted;
      w.unGranted = 0;
      setImmediate(() => {
        w.window += n;
        s.write(frame(FRAME.WINDOW_UPDATE, 0, id, Buffer.from(u32(n))));
      });
    };
    s.write(frame(FRAME.SETTINGS, 0, 0, g.initialWindow === undefined ? undefined : Buffer.from([0, 4, ...u32(g.initialWindow)])));
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      if (head.length < PREFACE.length) {
        head = Buffer.concat([head, chunk]);
        if (head.length < PREFACE.length) return;
        chunk = head.subarray(PREFACE.length);
      }
      for (const f of reader.push(chunk)) {
        if (f.type === FRAME.SETTINGS && (f.flags & 1) === 0) s.write(frame(FRAME.SETTINGS, 1, 0));
        if (f.type === FRAME.SETTINGS && (f.flags & 1) === 1 && g.initialWindow !== undefined && initial !== g.initialWindow) {
          for (const st of streams.values()) st.window += g.initialWindow - initial;
          initial = g.initialWindow;
        }
        if (f.type === FRAME.HEADERS) streams.set(f.streamId, { window: initial, unGranted: 0, body: [] });
        const st = streams.get(f.streamId);
        if (f.type !== FRAME.DATA || !st) continue;
        const n = f.payload.length;
        conn.window -= n;
        st.window -= n;
        if (n > 16_384) violations.push(`a DATA frame of ${n} octets`);
        if (conn.window < 0 || st.window < 0) violations.push(`DATA beyond a window (connection ${conn.window}, stream ${st.window})`);
        st.body.push(f.payload);
        conn.unGranted += n;
        st.unGranted += n;
        grant(0, conn, g.connStep);
        grant(f.streamId, st, g.streamStep);
        if ((f.flags & 1) === 0) continue;
        const data = new MessageDecoder().push(Buffer.concat(st.body)).map((m) => Buffer.from(ControlService.Load.requestDeserialize(m).data?.data ?? []));
        const answer = frameMessage(ControlService.Load.responseSerialize({ images: [{ name: String(data.reduce((a, c) => a + c.length, 0)), manifestDigest: sha256(data) }] }));
        s.write(Buffer.concat([
          frame(FRAME.HEADERS, 0x4, f.streamId, encodeHeaders([[':status', '200'], ['content-type', 'application/grpc']])),
          frame(FRAME.DATA, 0, f.streamId, answer),
          frame(FRAME.HEADERS, 0x5, f.streamId, encodeHeaders([['grpc-status', '0']])),
        ]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return { server, violations };
}

test.each([
  ['the connection window', { streamStep: 7_000, connStep: 12_000 }],
  ['a stream window lowered by SETTINGS', { initialWindow: 5_000, streamStep: 4_000, connStep: 12_000 }],
])('DATA within %s and the frame size, two calls sharing the connection', async (name, grants) => {
  const sock = join(dir, `strict-${name.length}.sock`);
  const { server, violations } = await strictServer(sock, grants);
  const ch = new H2Channel({ target: { kind: 'unix', path: sock } });
  const load = (chunks: readonly Buffer[]): Promise<LoadRes> => new Promise<LoadRes>((resolve, reject) => {
    const call = ch.call(ControlService.Load.path, ControlService.Load);
    call.on('data', resolve);
    call.on('error', reject);
    for (const data of chunks) call.write({ data: { data } });
    call.end();
  });
  try {
    const a = Array.from({ length: 3 }, () => randomBytes(MiB));
    const b = [randomBytes(200_000)];
    const [ra, rb] = await Promise.all([load(a), load(b)]);
    expect(ra.images?.[0]).toMatchObject({ name: String(3 * MiB), manifestDigest: sha256(a) });
    expect(rb.images?.[0]).toMatchObject({ name: '200000', manifestDigest: sha256(b) });
    expect(violations).toEqual([]);
  } finally {
    ch.close();
    await new Promise((r) => server.close(r));
  }
}, 30_000);

describe('a server that breaks the protocol', () => {
  /** A raw server answering each connection with `answer`; resolves the frames the client sent. */
  async function rawServer(name: string, answer: (s: Socket) => void): Promise<{ server: NetServer; sent: Promise<Frame[]>; ch: H2Channel }> {
    const sock = join(dir, name);
    let gotFrames: (f: Frame[]) => void = () => {};
    const sent = new Promise<Frame[]>((r) => { gotFrames = r; });
    const server = createNetServer((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => {
        if (chunks.length === 0) answer(s);
        chunks.push(c);
      });
      s.on('close', () => gotFrames(new FrameReader(1 << 24).push(Buffer.concat(chunks).subarray(PREFACE.length))));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(sock, r));
    return { server, sent, ch: new H2Channel({ target: { kind: 'unix', path: sock } }) };
  }

  test.each([
    ['an HTTP/1.1 answer', (s: Socket) => s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), /a frame of 4740180 octets, above the 16384 allowed/, H2_ERROR.FRAME_SIZE_ERROR],
    ['a header block with index 0', (s: Socket) => s.write(Buffer.concat([frame(FRAME.SETTINGS, 0, 0), frame(FRAME.HEADERS, 0x4, 1, Buffer.from([0x80]))])), /header field index 0/, H2_ERROR.COMPRESSION_ERROR],
  ])('%s: the call fails UNAVAILABLE naming it; the client sends GOAWAY', async (name, answer, why, code) => {
    const { server, sent, ch } = await rawServer(`${name.length}.sock`, answer);
    try {
      const e = await failure(unary(ch, ControlService.Info, {}));
      expect([e.code, e.details]).toEqual([Status.UNAVAILABLE, expect.stringMatching(why)]);
      const goaway = (await sent).find((f) => f.type === FRAME.GOAWAY);
      expect(goaway?.payload.readUInt32BE(4)).toBe(code);
    } finally {
      ch.close();
      await new Promise((r) => server.close(r));
    }
  });

  test('a connection dropped mid-call fails it UNAVAILABLE', async () => {
    const { server, ch } = await rawServer('drop.sock', (s) => setTimeout(() => s.destroy(), 20));
    try {
      const e = await failure(unary(ch, ControlService.Info, {}));
      expect([e.code, e.details]).toEqual([Status.UNAVAILABLE, 'Connection dropped']);
    } finally {
      ch.close();
      await new Promise((r) => server.close(r));
    }
  });
});
