/**
 * The two halves of ssh agent forwarding over Solve, wired to each other message by message (the
 * daemon's SshTunnels, the client's SshRelay) with real unix sockets: an "agent" that echoes with a
 * prefix stands in for ssh-agent. Bytes go both ways on several connections at once, a large
 * reply arrives whole, the agent closing ends the RUN side's connection, the RUN side closing ends
 * the agent's, and closing the tunnels (the build's end or abort) ends every open connection.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshRelay } from '../../src/client/solve-ssh-relay.js';
import { SshTunnels } from '../../src/control/solve-ssh-tunnels.js';

let dir = '';
let agent: Server;
const agentConns = new Set<Socket>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-ssh-tunnel-'));
  agent = createServer((s) => {
    agentConns.add(s);
    s.on('close', () => agentConns.delete(s));
    s.on('data', (d: Buffer) => {
      const text = d.toString();
      if (text === 'big') s.write(Buffer.alloc(4 * 1024 * 1024, 'x'));
      else if (text === 'bye') s.end('bye!');
      else s.write(`agent:${text}`);
    });
  });
  await new Promise<void>((r) => agent.listen(join(dir, 'agent.sock'), r));
});

afterEach(async () => {
  for (const s of agentConns) s.destroy();
  await new Promise<void>((r) => agent.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

/** The daemon and client halves joined (each side's messages delivered to the other asynchronously). */
async function wired(): Promise<{ tunnels: SshTunnels; relay: SshRelay; socket: string }> {
  let relay: SshRelay | undefined;
  const tunnels = new SshTunnels(async (m) => {
    await new Promise((r) => setImmediate(r));
    if (m.ssh) relay?.receive(m.ssh);
  });
  relay = new SshRelay({ default: join(dir, 'agent.sock') }, async (m) => {
    await new Promise((r) => setImmediate(r));
    if (m.ssh) tunnels.receive(m.ssh);
  });
  const agents = await tunnels.listen(['default'], dir, {});
  return { tunnels, relay, socket: agents['default'] as string };
}

function readUntil(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const onData = (d: Buffer): void => {
      chunks.push(d);
      len += d.length;
      if (len >= n) {
        s.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

const closed = (s: Socket): Promise<void> => new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));

test('bytes go both ways on concurrent connections; a 4 MiB reply arrives whole', async () => {
  const { tunnels, relay, socket } = await wired();
  try {
    const a = connect(socket);
    const b = connect(socket);
    a.write('one');
    b.write('two');
    expect((await readUntil(a, 9)).toString()).toBe('agent:one');
    expect((await readUntil(b, 9)).toString()).toBe('agent:two');
    a.write('big');
    const big = await readUntil(a, 4 * 1024 * 1024);
    expect(big.length).toBe(4 * 1024 * 1024);
    expect(big.every((x) => x === 0x78)).toBe(true);
    a.destroy();
    b.destroy();
  } finally {
    relay.close();
    await tunnels.close();
  }
});

test('either end closing closes the other; closing the tunnels ends every connection', async () => {
  const { tunnels, relay, socket } = await wired();
  try {
    // The agent ends: the RUN's connection gets the last bytes, then its end.
    const a = connect(socket);
    a.write('bye');
    expect((await readUntil(a, 4)).toString()).toBe('bye!');
    await closed(a);
    // The RUN's side ends: the agent's connection closes.
    const b = connect(socket);
    b.write('hi');
    await readUntil(b, 8);
    const agentSide = [...agentConns][0] as Socket;
    b.end();
    await closed(agentSide);
    // The build ends with a connection open: it is closed, and the socket is gone.
    const c = connect(socket);
    c.write('x');
    await readUntil(c, 7);
    await tunnels.close();
    await closed(c);
    await new Promise<void>((resolve) => {
      const d = connect(socket);
      d.on('error', () => resolve());
    });
  } finally {
    relay.close();
    await tunnels.close();
  }
});
