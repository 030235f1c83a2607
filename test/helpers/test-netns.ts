/**
 * A small private network for tests that need "the outside" without touching any address beyond
 * this machine: two network namespaces the test makes (nsfs files under its own directory), joined
 * by a veth pair. `engine` is where the code under test runs (its 127.0.0.1 stands for the host's
 * loopback); `outside` holds 198.18.0.1 (the benchmarking range, RFC 2544), standing for a server on
 * the internet. Servers are Node processes started inside either namespace. Commands run in
 * `engine` get a private mount namespace whose /etc/resolv.conf names a resolver on that
 * namespace's loopback (as systemd-resolved's or dnsmasq's would), served by `dnsServer`.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBinary } from './skip.js';

export const haveNetnsTools = haveBinary('ip') && haveBinary('unshare') && haveBinary('nsenter');

export const OUTSIDE_ADDR = '198.18.0.1';
const ENGINE_ADDR = '198.18.0.2';

/** One process serving HTTP (a fixed body) or DNS (A records) per spec; prints the ports as JSON. */
const SERVER_SCRIPT = String.raw`
import dgram from 'node:dgram';
import http from 'node:http';
const specs = JSON.parse(process.argv[2]);
function dns(spec) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => {
    let i = 12;
    const labels = [];
    while (i < m.length && m[i] !== 0) { labels.push(m.subarray(i + 1, i + 1 + m[i]).toString()); i += m[i] + 1; }
    const name = labels.join('.').toLowerCase();
    const type = m.readUInt16BE(i + 1);
    const ip = spec.records[name];
    const hit = ip !== undefined && type === 1;
    const head = Buffer.from(m.subarray(0, 12));
    head.writeUInt16BE(0x8180 | (ip === undefined ? 3 : 0), 2);
    head.writeUInt16BE(1, 4); head.writeUInt16BE(hit ? 1 : 0, 6); head.writeUInt32BE(0, 8);
    const answer = hit ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...ip.split('.').map(Number)]) : Buffer.alloc(0);
    s.send(Buffer.concat([head, m.subarray(12, i + 5), answer]), r.port, r.address);
  });
  return new Promise((resolve) => s.bind(spec.port, spec.host, () => resolve(s.address().port)));
}
function web(spec) {
  const s = http.createServer((_q, res) => res.end(spec.body));
  return new Promise((resolve) => s.listen(spec.port ?? 0, spec.host, () => resolve(s.address().port)));
}
const ports = await Promise.all(specs.map((s) => (s.kind === 'dns' ? dns(s) : web(s))));
process.stdout.write(JSON.stringify(ports) + '\n');
`;

export type ServerSpec =
  | { readonly kind: 'http'; readonly host: string; readonly body: string }
  | { readonly kind: 'dns'; readonly host: string; readonly port: number; readonly records: Readonly<Record<string, string>> };

export type Side = 'engine' | 'outside';

export interface TestNetwork {
  /** Starts servers in one namespace; resolves with their ports, in order. Stopped by close(). */
  serve(side: Side, specs: readonly ServerSpec[]): Promise<number[]>;
  /** argv that runs `cmd args` in the engine namespace (with the loopback resolver in resolv.conf). */
  inEngine(cmd: string, args: readonly string[]): [string, string[]];
  close(): Promise<void>;
}

function nsPath(dir: string, side: Side): string {
  return join(dir, `netns-${side}`);
}

/** Makes the namespaces under `dir` (created). */
export async function makeTestNetwork(dir: string): Promise<TestNetwork> {
  await mkdir(dir, { recursive: true });
  const servers: ChildProcess[] = [];
  const script = join(dir, 'servers.mjs');
  const resolv = join(dir, 'resolv.conf');
  await writeFile(script, SERVER_SCRIPT);
  await writeFile(resolv, 'nameserver 127.0.0.1\n');
  const made: string[] = [];
  const close = async (): Promise<void> => {
    for (const s of servers.splice(0)) {
      const gone = new Promise<void>((resolve) => (s.exitCode !== null || s.signalCode !== null ? resolve() : s.once('exit', () => resolve())));
      s.kill('SIGKILL');
      await gone;
    }
    // Unmounting the nsfs files frees the namespaces and the veth pair with them.
    for (const p of made.splice(0)) execFileSync('umount', [p]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const side of ['engine', 'outside'] as const) {
      const p = nsPath(dir, side);
      await writeFile(p, '');
      execFileSync('unshare', [`--net=${p}`, 'true']);
      made.push(p);
    }
    const inNs = (side: Side, args: readonly string[]): void => {
      execFileSync('nsenter', [`--net=${nsPath(dir, side)}`, ...args]);
    };
    inNs('engine', ['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', nsPath(dir, 'outside')]);
    for (const [side, dev, addr] of [['engine', 'v0', ENGINE_ADDR], ['outside', 'v1', OUTSIDE_ADDR]] as const) {
      inNs(side, ['ip', 'link', 'set', 'lo', 'up']);
      inNs(side, ['ip', 'addr', 'add', `${addr}/24`, 'dev', dev]);
      inNs(side, ['ip', 'link', 'set', dev, 'up']);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    async serve(side, specs) {
      const child = spawn('nsenter', [`--net=${nsPath(dir, side)}`, process.execPath, script, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'pipe'] });
      servers.push(child);
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
      return new Promise<number[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`servers did not start: ${err}`)), 30_000);
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (!out.includes('\n')) return;
          clearTimeout(timer);
          resolve(JSON.parse(out) as number[]);
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`servers exited (${String(code)}): ${err}`));
        });
      });
    },
    inEngine(cmd, args) {
      // A private mount namespace (slave: the host's mounts still propagate in) for resolv.conf.
      return ['nsenter', [`--net=${nsPath(dir, 'engine')}`, 'unshare', '--mount', '--propagation', 'slave', 'sh', '-c',
        'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv, cmd, ...args]];
    },
    close,
  };
}
