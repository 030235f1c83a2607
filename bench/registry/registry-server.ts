/**
 * A private `docker-registry` (Debian's Distribution 2.8) for the registry benchmark: storage in
 * the work dir, a free 127.0.0.1 port (plain HTTP for tsbuild and docker alike), `restart()` with
 * empty storage for cold pushes. The tests have their own helper; bench code cannot import test/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../../src/util/errors.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export function haveRegistry(): boolean {
  return existsSync(REGISTRY_BIN);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/v2/`, { agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => req.destroy());
  });
}

export interface BenchRegistry {
  /** `127.0.0.1:port`, the reference domain. */
  readonly host: string;
  /** Stops it, empties its storage and starts it again on the same port. */
  restart(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchRegistry(dir: string, signal: AbortSignal): Promise<BenchRegistry> {
  if (!haveRegistry()) throw new TsbuildError('BENCH_NO_REGISTRY', `${REGISTRY_BIN} not found (apt-get install docker-registry)`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const cfg = join(dir, 'config.yml');
  const data = join(dir, 'data');
  await mkdir(dir, { recursive: true });
  await writeFile(cfg, [
    'version: 0.1',
    'log:', '  level: error', '  accesslog:', '    disabled: true',
    'storage:', '  filesystem:', `    rootdirectory: ${data}`, '  maintenance:', '    uploadpurging:', '      enabled: false',
    'http:', `  addr: "${host}"`, `  secret: ${randomBytes(16).toString('hex')}`, '',
  ].join('\n'));
  let child: ChildProcess | undefined;
  const stopChild = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await gone;
    }
  };
  const start = async (): Promise<void> => {
    let log = '';
    child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
    const deadline = Date.now() + 15_000;
    while (!(await answers(`http://${host}`))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stopChild();
        throw new TsbuildError('BENCH_NO_REGISTRY', `docker-registry did not start on ${host}:\n${log.slice(-2000)}`);
      }
      await sleep(50, undefined, { signal });
    }
  };
  await start();
  return {
    host,
    async restart(sig) {
      await stopChild();
      await rm(data, { recursive: true, force: true });
      sig.throwIfAborted();
      await start();
    },
    stop: stopChild,
  };
}
