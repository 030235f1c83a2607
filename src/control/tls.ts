/**
 * TLS for tcp addresses: the server certificate and key (`--tls-cert`, `--tls-key`), and with
 * `--tls-ca` mutual TLS: clients must present a certificate that CA signed, or the handshake
 * fails. Files are read and checked at start-up so a wrong path or a key that does not match the
 * certificate is one clear line, not a handshake failure on the first call.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ServerCredentials } from '@grpc/grpc-js';
import { UsageError } from '../util/errors.js';
import type { TlsOptions } from './types.js';

async function readPem(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export async function serverCredentials(tls: TlsOptions): Promise<ServerCredentials> {
  const cert = await readPem(tls.certFile, '--tls-cert');
  const key = await readPem(tls.keyFile, '--tls-key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new UsageError(`--tls-cert ${tls.certFile} is not a PEM certificate: ${(e as Error).message}`);
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
  } catch (e) {
    throw new UsageError(`--tls-key ${tls.keyFile}: ${(e as Error).message}`);
  }
  let ca: Buffer | null = null;
  if (tls.caFile !== undefined) {
    ca = await readPem(tls.caFile, '--tls-ca');
    try {
      new X509Certificate(ca);
    } catch (e) {
      throw new UsageError(`--tls-ca ${tls.caFile} is not a PEM certificate: ${(e as Error).message}`);
    }
  }
  return ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], ca !== null);
}
