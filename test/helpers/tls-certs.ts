/**
 * A throw-away PKI for TLS tests, made with openssl at test time (keys are never committed): a CA,
 * and server or client certificates it signs (EC P-256, valid two days).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertPair } from './registry.js';

export type { CertPair };

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA in `dir` (`NAME.crt`, `NAME.key`). */
export function makeCa(dir: string, name = 'ca'): CertPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { certFile, keyFile };
}

/** A certificate signed by `ca`: for a server (with an IP SAN) or for a client (CN only). */
export function issueCert(ca: CertPair, dir: string, name: string, o: { readonly cn: string; readonly ip?: string; readonly use: 'server' | 'client' }): CertPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, [
    `extendedKeyUsage=${o.use === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(o.ip !== undefined ? [`subjectAltName=IP:${o.ip}`] : []),
  ].join('\n') + '\n');
  openssl(['req', ...EC, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${o.cn}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  return { certFile, keyFile };
}
