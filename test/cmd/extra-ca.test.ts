/**
 * NODE_EXTRA_CA_CERTS through the `tsbuild` binary itself (run as an executable, as a user runs
 * it): node no longer loads the file at start-up (its first line moves the variable aside,
 * src/util/extra-ca.ts), yet a TLS download of the embedded engine (`ADD https://…` against a
 * self-signed server on 127.0.0.2) still trusts exactly what the variable names.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild, type CliResult } from '../helpers/cli.js';
import { makeSelfSignedCert } from '../helpers/registry.js';
import type { CertPair } from '../helpers/registry.js';
import { haveBinary } from '../helpers/skip.js';

/** The CLI without NODE_EXTRA_CA_CERTS but where `env` sets it (an undefined value is not passed on). */
function run(args: readonly string[], env: NodeJS.ProcessEnv, asExecutable = true): Promise<CliResult> {
  return runTsbuild(args, { env: { NODE_EXTRA_CA_CERTS: undefined, ...env }, asExecutable, timeoutMs: 60_000 });
}

describe('NODE_EXTRA_CA_CERTS and the tsbuild binary', () => {
  let dir: string;
  let cert: CertPair;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    if (!haveBinary('openssl')) throw new Error('openssl is needed to make the test certificate');
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-extra-ca-'));
    cert = makeSelfSignedCert(dir, 'server', { cn: '127.0.0.2', ip: '127.0.0.2' });
    server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (req, res) => {
      if (req.url === '/hello.txt') res.writeHead(200, { 'Content-Length': 6 }).end('hello\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
    url = `https://127.0.0.2:${(server.address() as AddressInfo).port}/hello.txt`;
    await writeFile(join(dir, 'Dockerfile'), `FROM scratch\nADD ${url} /hello.txt\n`);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('node does not load the file at start-up: a missing file draws no warning from --version', async () => {
    const env = { NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') };
    const viaBinary = await run(['--version'], env);
    expect({ code: viaBinary.code, stdout: viaBinary.stdout, stderr: viaBinary.stderr }).toEqual({ code: 0, stdout: expect.stringMatching(/^tsbuild \d/), stderr: '' });
    // The same file through node itself: node reads it before any script runs, and says so.
    const viaNode = await run(['--version'], env, false);
    expect(viaNode.code).toBe(0);
    expect(viaNode.stderr).toContain('Ignoring extra certs from');
  });

  test('an embedded ADD https:// trusts the CA that NODE_EXTRA_CA_CERTS names, and only then', async () => {
    const build = (n: number, env: NodeJS.ProcessEnv): Promise<CliResult> =>
      run(['--root', join(dir, `root${n}`), 'build', '--progress=plain', '-o', `type=local,dest=${join(dir, `out${n}`)}`, dir], env);
    const refused = await build(1, {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/failed to fetch https:\/\/127\.0\.0\.2:\d+\/hello\.txt: .*(self[- ]signed|certificate)/i);

    const trusted = await build(2, { NODE_EXTRA_CA_CERTS: cert.certFile });
    expect([trusted.code, trusted.stderr.slice(-2000)]).toEqual([0, expect.any(String)]);
    expect(await readFile(join(dir, 'out2', 'hello.txt'), 'utf8')).toBe('hello\n');
  }, 60_000);
});
