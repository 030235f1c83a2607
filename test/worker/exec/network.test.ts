/** Network modes, and the resolv.conf/hosts files generated for them. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostsFile, resolvConf } from '../../../src/worker/exec/init-files.js';
import { describeIf } from '../../helpers/skip.js';
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
