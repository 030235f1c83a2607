/**
 * RUN's network through the real CLI. By default a step has its own network namespace with
 * outbound access (slirp4netns) and cannot reach services on the host's loopback; `--network=host`
 * gives it the host's. Outbound access is shown inside namespaces this test makes (test-netns.ts):
 * the CLI runs in one whose 127.0.0.1 stands for the host's loopback, "the internet" is 198.18.0.1
 * in another. No traffic leaves loopback or those namespaces.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { cliPath } from '../../helpers/paths.js';
import { describeBuilds, useBuildEnv, BASE } from '../../helpers/build-env.js';
import type { CliResult } from '../../helpers/cli.js';
import { haveBinary } from '../../helpers/skip.js';
import { haveNetnsTools, makeTestNetwork, OUTSIDE_ADDR } from '../../helpers/test-netns.js';

function run(cmd: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describeBuilds('RUN networking', () => {
  if (!haveBinary('slirp4netns')) {
    test.skip('SKIPPED: needs slirp4netns (bash scripts/install-deps.sh)', () => undefined);
    return;
  }
  const env = useBuildEnv();
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('host-loopback-secret');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("a RUN cannot reach the host's 127.0.0.1 by default; with --network=host it can", async () => {
    const ctx = await env.context('loopback', {
      Dockerfile: [`FROM ${BASE}`, `RUN wget -q -O /got http://127.0.0.1:${port}/ && cat /got`, ''].join('\n'),
    });
    for (const flags of [[], ['--network=default']]) {
      const r = await env.run(['build', '--progress=plain', ...flags, ctx]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/can't connect to remote host \(127\.0\.0\.1\): Connection refused/);
      expect(r.stderr).toMatch(/Dockerfile:2:\d+: .*exit code: 1/);
    }
    expect(hits).toBe(0);
    const ok = await env.run(['build', '--progress=plain', '--network=host', ctx]);
    expect(ok.stderr).toContain('host-loopback-secret');
    expect(ok.code).toBe(0);
    expect(hits).toBe(1);
  });

  // The build's --network is part of every RUN's op (BuildKit's force-network-mode), so a step
  // run on the host's network is not served from the cache to a sandboxed build, nor the reverse.
  test('a RUN cached under --network=host runs again under the default network (and fails there)', async () => {
    const ctx = await env.context('network-key', {
      Dockerfile: [`FROM ${BASE}`, `RUN wget -q -O /got http://127.0.0.1:${port}/key && cat /got`, ''].join('\n'),
    });
    const before = hits;
    const host = await env.run(['build', '--progress=plain', '--network=host', ctx]);
    expect(host.code).toBe(0);
    const again = await env.run(['build', '--progress=plain', '--network=host', ctx]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/\[2\/2\] RUN wget[^\n]*\n#\d+ CACHED/);
    expect(hits).toBe(before + 1);
    const sandboxed = await env.run(['build', '--progress=plain', ctx]);
    expect(sandboxed.code).toBe(1);
    expect(sandboxed.stderr).toMatch(/can't connect to remote host \(127\.0\.0\.1\): Connection refused/);
    expect(hits).toBe(before + 1);
  });

  test('RUN --network=host in the Dockerfile needs --allow network.host, then reaches it too; RUN --network=default does not', async () => {
    const ctx = await env.context('per-step', {
      Dockerfile: [
        `FROM ${BASE}`,
        `RUN --network=host wget -q -O- http://127.0.0.1:${port}/ > /on-host`,
        `RUN --network=default if wget -q -O- http://127.0.0.1:${port}/; then echo reached; else echo blocked; fi > /default`,
        'RUN cat /on-host /default',
        '',
      ].join('\n'),
    });
    const before = hits;
    // As in BuildKit, a step on the host's network needs the network.host entitlement.
    const refused = await env.run(['build', '--progress=plain', '--no-cache', ctx]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Dockerfile:2:\d+: .*: RUN --network=host needs --allow network\.host/);
    expect(hits).toBe(before);
    const r = await env.run(['build', '--progress=plain', '--no-cache', '--allow', 'network.host', ctx]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/host-loopback-secret\s*blocked/);
    expect(hits).toBe(before + 1);
  });

  // Outbound: the CLI runs in a namespace of the test's; the step fetches from 198.18.0.1 by address
  // and by name (through slirp4netns' DNS forwarder and the engine side's loopback resolver), and
  // still cannot reach the engine side's own 127.0.0.1.
  (haveNetnsTools ? test : test.skip)('a default RUN reaches "the internet" by address and by name, not the engine side\'s loopback', async () => {
    const net = await makeTestNetwork(join(env.dir, 'netns'));
    try {
      const [outsidePort] = await net.serve('outside', [{ kind: 'http', host: OUTSIDE_ADDR, body: 'from-outside' }]);
      const [loopPort] = await net.serve('engine', [
        { kind: 'http', host: '127.0.0.1', body: 'engine-loopback-secret' },
        { kind: 'dns', host: '127.0.0.1', port: 53, records: { 'web.example.test': OUTSIDE_ADDR } },
      ]);
      const probe = (url: string, name: string): string => `if wget -q -O- ${url}; then echo " <- ${name}"; else echo "blocked ${name}"; fi`;
      const ctx = await env.context('outbound', {
        Dockerfile: [
          `FROM ${BASE}`,
          `RUN ${probe(`http://${OUTSIDE_ADDR}:${String(outsidePort)}/`, 'by-address')} > /out1`,
          `RUN ${probe(`http://web.example.test:${String(outsidePort)}/`, 'by-name')} > /out2`,
          // 10.0.2.3 forwards to the (loopback) resolver, but port 53 only.
          `RUN ${probe(`http://127.0.0.1:${String(loopPort)}/`, 'loopback')}; ${probe(`http://10.0.2.2:${String(loopPort)}/`, 'gateway')}; ${probe(`http://10.0.2.3:${String(loopPort)}/`, 'dns-alias')}`,
          'RUN cat /out1 /out2',
          '',
        ].join('\n'),
      });
      const [cmd, args] = net.inEngine(process.execPath, [cliPath, '--root', env.root, 'build', '--progress=plain', '--no-cache', ctx]);
      const r = await run(cmd, args);
      expect(r.stderr).toContain('from-outside <- by-address');
      expect(r.stderr).toContain('from-outside <- by-name');
      expect(r.stderr).toContain('blocked loopback');
      expect(r.stderr).toContain('blocked gateway');
      expect(r.stderr).toContain('blocked dns-alias');
      expect(r.stderr).not.toContain('engine-loopback-secret');
      expect(r.code).toBe(0);
    } finally {
      await net.close();
    }
  });
});
