/**
 * H2Channel.connected() (src/client/h2/channel.ts): it settles once the socket's connection has
 * completed, so a call's first message written after it leaves at once — also while the client then
 * keeps its thread busy — instead of waiting in the socket until the event loop next runs (a Solve
 * start reached the daemon ~3 ms late, issue 14). It also settles when nothing listens, and the
 * call then fails UNAVAILABLE as before; and a Solve cancelled while its tcp connection is still
 * being made (a listener on 127.0.0.1 whose backlog is full and that never accepts: the kernel drops
 * the SYN, so connect hangs) ends at once with the cancellation. The peers are other processes (a
 * raw socket server that prints when the first bytes arrived, a Python listener), so their clocks
 * run while this one is busy.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { solveOverGrpc } from '../../src/client/grpc-solve.js';
import type { BuildRequest } from '../../src/client/types.js';
import { H2Channel } from '../../src/client/h2/channel.js';
import { failure, unary } from './h2-test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-h2-connected-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A process listening on `path` that prints `ready`, then the wall time the first bytes came. */
async function recorder(path: string): Promise<{ child: ChildProcess; arrived: Promise<number> }> {
  const script = `
    const net = require('node:net');
    net.createServer((s) => s.once('data', () => { process.stdout.write('arrived ' + Date.now() + '\\n'); })).listen(process.argv[1], () => process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let ready: () => void = () => undefined;
  const listening = new Promise<void>((r) => (ready = r));
  const arrived = new Promise<number>((resolve) => {
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('ready')) ready();
      const m = /arrived (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  await listening;
  return { child, arrived };
}

test('after connected(), a call\'s first bytes leave while this thread stays busy', async () => {
  const path = join(dir, 'rec.sock');
  const { child, arrived } = await recorder(path);
  const ch = new H2Channel({ target: { kind: 'unix', path } });
  try {
    ch.connect();
    await ch.connected();
    const call = ch.call(ControlService.Info.path, ControlService.Info);
    call.on('error', () => undefined);
    call.write({});
    // The connection flushes its frames on the next tick; then this thread is busy for 500 ms.
    await new Promise<void>((r) => process.nextTick(r));
    const busyFrom = Date.now();
    while (Date.now() - busyFrom < 500) { /* busy */ }
    expect(await arrived).toBeLessThan(busyFrom + 400);
    call.cancel();
  } finally {
    ch.close();
    child.kill();
    await once(child, 'exit');
  }
}, 20_000);

test('connected() settles when nothing listens; the call then fails UNAVAILABLE', async () => {
  const ch = new H2Channel({ target: { kind: 'unix', path: join(dir, 'nobody.sock') } });
  try {
    await ch.connected();
    const e = await failure(unary(ch, ControlService.Info, {}));
    expect(e.code).toBe(14);
  } finally {
    ch.close();
  }
}, 20_000);

test('a Solve cancelled while its tcp connection is still being made ends at once', async () => {
  // Listens with a backlog of one and never accepts: once that is full, connects hang in SYN_SENT.
  const py = spawn('python3', ['-c', 'import socket, time\ns = socket.socket()\ns.bind(("127.0.0.1", 0))\ns.listen(0)\nprint(s.getsockname()[1], flush=True)\ntime.sleep(120)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  const ch = { channel: undefined as H2Channel | undefined };
  try {
    const [line] = (await once(py.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    for (let i = 0; i < 4; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => undefined));
    await new Promise((r) => setTimeout(r, 300));
    ch.channel = new H2Channel({ target: { kind: 'tcp', host: '127.0.0.1', port } });
    const req: BuildRequest = {
      contextDir: dir, dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\n').toString('base64') },
      buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [],
    };
    const ac = new AbortController();
    const solving = solveOverGrpc(ch.channel, req, { signal: ac.signal }).then(() => 'built', (e: Error) => e.name);
    await new Promise((r) => setTimeout(r, 500));
    const cancelledAt = Date.now();
    ac.abort(new Error('interrupted'));
    expect(await solving).toBe('CancelledError');
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
  } finally {
    ch.channel?.close();
    for (const f of fillers) f.destroy();
    py.kill();
    await once(py, 'exit');
  }
}, 30_000);
