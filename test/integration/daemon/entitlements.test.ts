/**
 * Entitlements through tsbuildd: a client may ask for the host's network (`--network host`,
 * `--allow network.host`) or `--allow security.insecure` only when the daemon's operator allowed it
 * with `--allow-insecure-entitlement` (as buildkitd). A daemon without it refuses the build before
 * anything runs (PERMISSION_DENIED with the flag to give); one with it runs the step on the host's
 * network, which reaches a server on the host's 127.0.0.1.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';

describeIf(isRoot && haveBinary('runc') && haveBusybox, 'needs root, runc and busybox', 'tsbuildd entitlements', () => {
  let dir = '';
  let ctx = '';
  let strict = '';
  let lenient = '';
  let server: Server;
  let hits = 0;
  const daemons: DaemonProcess[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('host-loopback-secret');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-entitle-'));
    ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nRUN wget -q -O- http://127.0.0.1:${port}/ > /got && cat /got\n`);
    const root = join(dir, 'root');
    const imported = await runTsbuild(['--root', root, 'image', 'import', await busyboxTar(), BASE]);
    expect(imported.code).toBe(0);
    strict = `unix://${join(dir, 'strict.sock')}`;
    lenient = `unix://${join(dir, 'lenient.sock')}`;
    daemons.push(await startDaemon(['--addr', strict, '--root', root]));
    daemons.push(await startDaemon(['--addr', lenient, '--root', root, '--allow-insecure-entitlement', 'network.host']));
  }, 300_000);

  afterAll(async () => {
    for (const d of daemons) expect((await d.stop()).code).toBe(0);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a daemon without --allow-insecure-entitlement refuses network.host and security.insecure', async () => {
    for (const flags of [['--network', 'host'], ['--allow', 'network.host'], ['--allow', 'security.insecure']]) {
      const r = await runTsbuild(['--addr', strict, 'build', '--progress=plain', '--no-cache', ...flags, ctx]);
      const want = flags[1] === 'security.insecure' ? 'security.insecure' : 'network.host';
      expect({ code: r.code, err: r.stderr.trim().split('\n').at(-1) }).toEqual({
        code: 1,
        err: expect.stringContaining(`${want} is not allowed by this tsbuildd`) as unknown as string,
      });
      expect(r.stderr).toContain(`--allow-insecure-entitlement ${want}`);
    }
    expect(hits).toBe(0);
  }, 120_000);

  test('a daemon that allows network.host runs the step on the host network; the default network stays private', async () => {
    const denied = await runTsbuild(['--addr', lenient, 'build', '--progress=plain', '--no-cache', ctx]);
    expect(denied.code).toBe(1);
    expect(hits).toBe(0);
    const ok = await runTsbuild(['--addr', lenient, 'build', '--progress=plain', '--no-cache', '--network', 'host', ctx]);
    expect(ok.stderr).toContain('host-loopback-secret');
    expect(ok.code).toBe(0);
    expect(hits).toBe(1);
  }, 120_000);
});
