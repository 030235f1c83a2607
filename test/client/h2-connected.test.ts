/**
 * H2Channel.connected() (src/client/h2/channel.ts): it settles once the socket's connection has
 * completed, so a call's first message written after it leaves at once — also while the client then
 * keeps its thread busy — instead of waiting in the socket until the event loop next runs (a Solve
 * start reached the daemon ~3 ms late, issue 14). It also settles when nothing listens, and the
 * call then fails UNAVAILABLE as before. The peer is another process (a raw socket server that
 * prints when the first bytes arrived), so its clock runs while this one is busy.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ControlService } from '../../src/client/gen/control-grpc.js';
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
