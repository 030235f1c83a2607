/** `tsbuildd` flags and config file (cmd/daemon/options.ts): defaults, merging, and usage errors. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../../cmd/cli/args.js';
import { DAEMON_FLAGS, daemonOptions } from '../../cmd/daemon/options.js';
import { UsageError } from '../../src/util/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuildd-opts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const resolve = (argv: string[]) => daemonOptions(parseArgs(argv, DAEMON_FLAGS, 'tsbuildd'), '/var/lib/tsbuild');

describe('daemonOptions', () => {
  test('defaults', async () => {
    const o = await resolve([]);
    expect(o.addresses).toEqual([{ kind: 'unix', path: '/run/tsbuild/tsbuildd.sock' }]);
    expect(o.root).toBe('/var/lib/tsbuild');
    expect(o.maxParallelism).toBe(availableParallelism());
    // Unset: the daemon applies BuildKit's default budget, 10% of the data root's filesystem.
    expect(o.gcKeepStorage).toBeUndefined();
    expect(o.shutdownTimeoutMs).toBe(30_000);
    expect(o.insecureTcp).toBe(false);
    expect(o.tls).toBeUndefined();
    expect(o.limits).toEqual({ maxMessageBytes: 16 * 1024 * 1024, maxBuildsPerClient: 0, maxContextBytes: 0 });
  });

  test('flags override the config file; --addr given on the command line replaces the file\'s list', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({
      addr: ['unix:///run/a.sock', 'tcp://0.0.0.0:1234'], 'tls-cert': '/c.pem', 'tls-key': '/k.pem', root: '/data',
      'max-parallelism': 8, 'gc-keep-storage': '20GB', 'shutdown-timeout': '2m', 'max-builds-per-client': 3, 'insecure-tcp': false,
    }));
    const fromFile = await resolve(['--config', config]);
    expect(fromFile.addresses).toHaveLength(2);
    expect(fromFile.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
    expect(fromFile).toMatchObject({ root: '/data', maxParallelism: 8, gcKeepStorage: 20 * 1024 ** 3, shutdownTimeoutMs: 120_000 });
    expect(fromFile.limits.maxBuildsPerClient).toBe(3);
    const overridden = await resolve(['--config', config, '--addr', 'unix:///run/b.sock', '--max-parallelism', '2', '--root', '/other']);
    expect(overridden.addresses).toEqual([{ kind: 'unix', path: '/run/b.sock' }]);
    expect(overridden).toMatchObject({ root: '/other', maxParallelism: 2, gcKeepStorage: 20 * 1024 ** 3 });
  });

  test.each([
    [['--max-parallelism', '0'], /--max-parallelism: expected a whole number of at least 1/],
    [['--max-parallelism', '1.5'], /--max-parallelism/],
    [['--gc-keep-storage', 'lots'], /--gc-keep-storage/],
    [['--shutdown-timeout', 'soon'], /--shutdown-timeout/],
    [['--tls-cert', '/c.pem'], /--tls-cert and --tls-key go together/],
    [['--tls-ca', '/ca.pem'], /--tls-ca needs --tls-cert/],
    [['--addr', 'tcp://nohost'], /invalid --addr/],
    [['--max-message-size', '1KB'], /--max-message-size must lie between/],
    [['extra'], /takes no arguments/],
  ])('%j is a usage error', async (argv, re) => {
    await expect(resolve(argv)).rejects.toThrow(UsageError);
    await expect(resolve(argv)).rejects.toThrow(re);
  });

  test('config file errors are usage errors', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"addr": 5}');
    await expect(resolve(['--config', bad])).rejects.toThrow(/"addr" must be a string or a list of strings/);
    writeFileSync(bad, '{"listen": "x"}');
    await expect(resolve(['--config', bad])).rejects.toThrow(/unknown key "listen"/);
    writeFileSync(bad, '{not json');
    await expect(resolve(['--config', bad])).rejects.toThrow(/not valid JSON/);
    await expect(resolve(['--config', join(dir, 'missing.json')])).rejects.toThrow(/cannot read --config .*ENOENT/);
  });
});
