/**
 * tsbuildd on 127.0.0.1 over TCP: refused without TLS unless --insecure-tcp; server TLS; with
 * --tls-ca a client must present a certificate that CA signed (none, or one from another CA, is
 * rejected in the handshake). The PKI is made with openssl at test time.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { ControlService } from '../../../src/client/gen/control-grpc.js';
import { VERSION } from '../../../src/version.js';
import { describeIf, haveBinary } from '../../helpers/skip.js';
import { runDaemonToExit, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { callError, connect, unary, type ClientAuth } from '../../helpers/grpc.js';
import { issueCert, makeCa, type CertPair } from '../../helpers/tls-certs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuildd-tcp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function info(address: string, auth: ClientAuth): Promise<string> {
  const c = connect(address, auth);
  try {
    return (await unary(c, ControlService.Info, {}, 10_000)).version ?? '';
  } finally {
    c.close();
  }
}

describe('tsbuildd on tcp without TLS', () => {
  test('refuses to start without TLS (exit 2) and names the fix', async () => {
    const r = await runDaemonToExit(['--addr', 'tcp://127.0.0.1:0', '--root', join(dir, 'root')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to listen on tcp:\/\/127\.0\.0\.1:0 without TLS: give --tls-cert and --tls-key .* or --insecure-tcp/);
  });

  test('--insecure-tcp listens in plaintext, with a warning', async () => {
    const d = await startDaemon(['--addr', 'tcp://127.0.0.1:0', '--insecure-tcp', '--root', join(dir, 'root')]);
    try {
      expect(d.addresses[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(d.addresses[0]).not.toBe('tcp://127.0.0.1:0');
      expect(d.stderr()).toMatch(/warning: --insecure-tcp/);
      expect(await info(d.addresses[0] as string, {})).toBe(VERSION);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  });
});

describeIf(haveBinary('openssl'), 'needs openssl (Debian package openssl)', 'tsbuildd on tcp with TLS', () => {
  let ca: CertPair;
  let server: CertPair;
  let client: CertPair;
  let strangerClient: CertPair;
  const pem = (f: string): Buffer => readFileSync(f);

  beforeAll(() => {
    ca = makeCa(dir, 'ca');
    server = issueCert(ca, dir, 'server', { cn: 'tsbuildd', ip: '127.0.0.1', use: 'server' });
    client = issueCert(ca, dir, 'client', { cn: 'ci-runner-1', use: 'client' });
    const otherCa = makeCa(dir, 'other-ca');
    strangerClient = issueCert(otherCa, dir, 'stranger', { cn: 'stranger', use: 'client' });
  });

  describe('with --tls-ca (client certificates required)', () => {
    let d: DaemonProcess;
    beforeAll(async () => {
      d = await startDaemon(['--addr', 'tcp://127.0.0.1:0', '--tls-cert', server.certFile, '--tls-key', server.keyFile, '--tls-ca', ca.certFile, '--root', join(dir, 'root')]);
    });
    afterAll(async () => {
      if (d) expect((await d.stop()).code).toBe(0);
    });

    test('a client with a certificate the CA signed is served', async () => {
      expect(await info(d.addresses[0] as string, { ca: pem(ca.certFile), cert: pem(client.certFile), key: pem(client.keyFile) })).toBe(VERSION);
      const c = connect(d.addresses[0] as string, { ca: pem(ca.certFile), cert: pem(client.certFile), key: pem(client.keyFile) });
      try {
        expect((await unary(c, ControlService.Info, {})).features?.auth).toEqual(['tls-client-cert']);
      } finally {
        c.close();
      }
    });

    test('a client without a certificate is rejected', async () => {
      const err = await callError(info(d.addresses[0] as string, { ca: pem(ca.certFile) }));
      expect(err.code).toBe(Status.UNAVAILABLE);
    });

    test('a client whose certificate another CA signed is rejected', async () => {
      const err = await callError(info(d.addresses[0] as string, { ca: pem(ca.certFile), cert: pem(strangerClient.certFile), key: pem(strangerClient.keyFile) }));
      expect(err.code).toBe(Status.UNAVAILABLE);
    });

    test('a plaintext client is rejected', async () => {
      const err = await callError(info(d.addresses[0] as string, {}));
      expect(err.code).toBe(Status.UNAVAILABLE);
    });
  });

  test('server TLS without --tls-ca serves clients without certificates, warning that nothing authenticates them', async () => {
    const d = await startDaemon(['--addr', 'tcp://127.0.0.1:0', '--tls-cert', server.certFile, '--tls-key', server.keyFile, '--root', join(dir, 'root')]);
    try {
      expect(d.stderr()).toMatch(/warning: tcp without --tls-ca or --token-file/);
      expect(await info(d.addresses[0] as string, { ca: pem(ca.certFile) })).toBe(VERSION);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  });

  test('a key that does not match the certificate is a usage error at start-up', async () => {
    const r = await runDaemonToExit(['--addr', 'tcp://127.0.0.1:0', '--tls-cert', server.certFile, '--tls-key', client.keyFile, '--root', join(dir, 'root')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tls-key .*client\.key: the key does not match the certificate/);
  });
});
