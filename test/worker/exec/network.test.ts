/**
 * Network modes, and the resolv.conf/hosts files generated for them. The sandbox network (the
 * default) is checked against a server on the host's loopback, which it must not reach; traffic
 * goes only to loopback. Outbound access is checked in test/integration/build/run-network.test.ts,
 * inside network namespaces that test makes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CancelledError, TsbuildError } from '../../../src/util/errors.js';
import { ExecFailedError } from '../../../src/worker/exec/errors.js';
import { hostsFile, resolvConf } from '../../../src/worker/exec/init-files.js';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import { describeIf, haveBinary } from '../../helpers/skip.js';
import { canRunContainers, makeExecFixture, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describe('generated init files', () => {
  test('resolv.conf: host network keeps the host file as is', () => {
    const host = 'search example.org\nnameserver 127.0.0.53\noptions edns0\n';
    expect(resolvConf(host, 'host')).toBe(host);
  });

  test('resolv.conf: a private network drops loopback resolvers and falls back to defaults', () => {
    expect(resolvConf('search example.org\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n', 'none'))
      .toBe('search example.org\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    expect(resolvConf('nameserver 10.0.0.2\nnameserver 127.0.0.1\n', 'none')).toBe('nameserver 10.0.0.2\n');
    expect(resolvConf('', 'none')).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  test('resolv.conf: the sandbox network resolves through slirp4netns, keeping search and options', () => {
    expect(resolvConf('search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0\n', 'sandbox'))
      .toBe('search example.org\noptions edns0\nnameserver 10.0.2.3\n');
    expect(resolvConf('', 'sandbox')).toBe('nameserver 10.0.2.3\n');
  });

  test('hosts: bad extra hosts are rejected', () => {
    expect(() => hostsFile('h', [{ host: 'x', ip: 'not-an-ip' }])).toThrow(/invalid IP address/);
    expect(() => hostsFile('h', [{ host: 'a b', ip: '1.2.3.4' }])).toThrow(/invalid host name/);
  });
});

function interfaces(procNetDev: string): string[] {
  return procNetDev.split('\n').slice(2).map((l) => l.split(':')[0]?.trim() ?? '').filter((n) => n !== '').sort();
}

describeIf(canRunContainers, whyNot, 'network modes in a running container', () => {
  let f: ExecFixture;
  beforeAll(async () => {
    f = await makeExecFixture();
  });
  afterAll(async () => {
    await f.dispose();
  });

  test('none: a private namespace with only a working loopback', async () => {
    const out = await f.run(['/bin/sh', '-c', 'cat /proc/net/dev; echo ---; ip -o link show lo; ping -c1 -W2 127.0.0.1 >/dev/null && echo ping-ok']);
    const [dev, rest] = out.stdout.split('---\n');
    expect(interfaces(dev ?? '')).toEqual(['lo']);
    expect(rest).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    expect(rest).toContain('ping-ok');
    const hostIfaces = interfaces(await readFile('/proc/net/dev', 'utf8'));
    expect(hostIfaces.length).toBeGreaterThan(1);
  });

  test("host: the host's interfaces", async () => {
    const out = await f.run(['/bin/cat', '/proc/net/dev'], { network: 'host' });
    expect(interfaces(out.stdout)).toEqual(interfaces(await readFile('/proc/net/dev', 'utf8')));
  });

  test('resolv.conf comes from the host file, filtered for a private network', async () => {
    const hostConf = join(f.dir, 'host-resolv.conf');
    await writeFile(hostConf, 'nameserver 127.0.0.53\nsearch corp\n');
    const g = await makeExecFixture({ executor: { hostResolvConfPath: hostConf } });
    try {
      const none = await g.run(['/bin/cat', '/etc/resolv.conf']);
      expect(none.stdout).toBe('search corp\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
      const host = await g.run(['/bin/cat', '/etc/resolv.conf'], { network: 'host' });
      expect(host.stdout).toBe('nameserver 127.0.0.53\nsearch corp\n');
    } finally {
      await g.dispose();
    }
  });
});

/** Our slirp4netns processes: those whose command line names a path under `dir`. */
function slirpProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if ((cmd[0] ?? '').endsWith('slirp4netns') && cmd.some((a) => a.startsWith(`${dir}/`))) pids.push(Number(p));
  }
  return pids;
}

function nsfsMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .filter((l) => / - nsfs /.test(l))
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`));
}

/** An HTTP server on the host's loopback that counts the requests it got. */
async function loopbackServer(body: string): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const haveSlirp = canRunContainers && haveBinary('slirp4netns');

describeIf(haveSlirp, `${whyNot}, and slirp4netns`, 'the sandbox network (the default)', () => {
  let f: ExecFixture;
  let host: Awaited<ReturnType<typeof loopbackServer>>;
  beforeAll(async () => {
    f = await makeExecFixture();
    host = await loopbackServer('host-loopback-secret');
  });
  afterAll(async () => {
    await host.close();
    await f.dispose();
  });

  async function expectNothingLeft(): Promise<void> {
    expect(slirpProcessesUnder(f.dir)).toEqual([]);
    expect(nsfsMountsUnder(f.dir)).toEqual([]);
    await f.assertClean();
  }

  test('lo and tap0 (10.0.2.100/24), a default route through slirp4netns, its DNS forwarder', async () => {
    const out = await f.run(['/bin/sh', '-c', 'cat /proc/net/dev; echo ---; ip -o -4 addr; echo ---; ip route; echo ---; cat /etc/resolv.conf; ping -c1 -W2 127.0.0.1 >/dev/null && echo ping-ok'], { network: 'sandbox' });
    const [dev, addrs, routes, rest] = out.stdout.split('---\n');
    expect(interfaces(dev ?? '')).toEqual(['lo', 'tap0']);
    expect(addrs).toMatch(/^\d+: lo\s+inet 127\.0\.0\.1\/8 /m);
    expect(addrs).toMatch(/^\d+: tap0\s+inet 10\.0\.2\.100\/24 /m);
    expect(routes).toMatch(/^default via 10\.0\.2\.2 dev tap0/m);
    expect(rest).toMatch(/^nameserver 10\.0\.2\.3\n/m);
    expect(rest).not.toMatch(/^nameserver (?!10\.0\.2\.3)/m);
    expect(rest).toContain('ping-ok');
    await expectNothingLeft();
  });

  test("a server on the host's 127.0.0.1 is out of reach (as 127.0.0.1 and as 10.0.2.2); with the host network it is not", async () => {
    const probe = (addr: string): string => `if timeout 10 wget -q -O- http://${addr}:${host.port}/; then echo " reached ${addr}"; else echo "blocked ${addr}"; fi`;
    const script = [probe('127.0.0.1'), probe('10.0.2.2')].join('; ');
    const sandboxed = await f.run(['/bin/sh', '-c', script], { network: 'sandbox' });
    expect(sandboxed.stdout).toBe('blocked 127.0.0.1\nblocked 10.0.2.2\n');
    expect(host.hits()).toBe(0);
    const onHost = await f.run(['/bin/sh', '-c', probe('127.0.0.1')], { network: 'host' });
    expect(onHost.stdout).toBe('host-loopback-secret reached 127.0.0.1\n');
    expect(host.hits()).toBe(1);
    await expectNothingLeft();
  });

  test('nothing is left after a failing run, a cancelled run, or an aborted setup', async () => {
    const err = await f.run(['/bin/sh', '-c', 'exit 3'], { network: 'sandbox' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    await expectNothingLeft();

    const ac = new AbortController();
    let during: { slirp: number[]; nsfs: string[] } | undefined;
    const cancelled = await f.run(['/bin/sh', '-c', 'echo started; sleep 100'], {
      network: 'sandbox',
      signal: ac.signal,
      onLog: (l) => {
        if (l.text !== 'started') return;
        during = { slirp: slirpProcessesUnder(f.dir), nsfs: nsfsMountsUnder(f.dir) };
        ac.abort(new Error('stop'));
      },
    }).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(CancelledError);
    // While the step ran, there was one of each: the checks below could see them.
    expect(during?.slirp).toHaveLength(1);
    expect(during?.nsfs).toHaveLength(1);
    await expectNothingLeft();

    for (const ms of [0, 5, 15, 40]) {
      const early = new AbortController();
      setTimeout(() => early.abort(), ms);
      const e = await f.run(['/bin/sleep', '100'], { network: 'sandbox', signal: early.signal }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CancelledError);
      await expectNothingLeft();
    }
  });

  test('without slirp4netns a default-network RUN fails with one error naming the package', async () => {
    const g = await makeExecFixture({ executor: { slirp4netnsBinary: join(f.dir, 'no-such-slirp4netns') } });
    try {
      const err = await g.run(['/bin/true'], { network: 'sandbox' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TsbuildError);
      expect((err as TsbuildError).code).toBe('SANDBOX_NETWORK_UNAVAILABLE');
      expect((err as Error).message).toMatch(/needs .*no-such-slirp4netns, which was not found: install the Debian package slirp4netns/);
      // none and host do not need it.
      await g.run(['/bin/true'], { network: 'none' });
      await g.run(['/bin/true'], { network: 'host' });
      await g.assertClean();
    } finally {
      await g.dispose();
    }
  });

  test("a dead engine's slirp4netns and namespace mount are removed by the next engine", async () => {
    let started!: () => void;
    const isStarted = new Promise<void>((r) => { started = r; });
    const run = f.run(['/bin/sh', '-c', 'echo started; sleep 100'], {
      network: 'sandbox',
      onLog: (l) => { if (l.text === 'started') started(); },
    }).catch((e: unknown) => e);
    await isStarted;
    const tmp = join(f.root, 'tmp');
    const [bundleName] = await readdir(tmp);
    const bundle = join(tmp, bundleName as string);
    expect(slirpProcessesUnder(bundle)).toHaveLength(1);
    expect(nsfsMountsUnder(bundle)).toHaveLength(1);

    // Pretend the owning engine died: its pid is now a process that has exited.
    const owner = JSON.parse(await readFile(join(bundle, 'owner.json'), 'utf8')) as { id: string };
    const deadPid = Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
    await writeFile(join(bundle, 'owner.json'), JSON.stringify({ ...owner, pid: deadPid, startTime: '1' }));
    const report = await new RuncExecutor({ root: f.root }).cleanupStale({ signal: AbortSignal.timeout(30_000) });
    expect(report.bundles).toEqual([bundle]);
    expect(slirpProcessesUnder(f.dir)).toEqual([]);
    expect(nsfsMountsUnder(f.dir)).toEqual([]);
    expect(existsSync(bundle)).toBe(false);
    expect(await run).toBeInstanceOf(ExecFailedError);
    await expectNothingLeft();
  });
});
