/**
 * Real registries for tests: Debian's `docker-registry` (Distribution 2.8) on 127.0.0.x with a
 * free port and its storage in a temp dir — plain, htpasswd-protected (Basic), or token-protected
 * behind a small node:http token server that signs JWS tokens Distribution accepts. The
 * directory-backed BlobSink/BlobSource standing in for the content store is re-exported from
 * registry-blob-store.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGISTRY_BIN, haveBinary } from './requirements.mjs';

export { REGISTRY_BIN };
export const haveRegistry = existsSync(REGISTRY_BIN) && haveBinary('openssl') && haveBinary('htpasswd');
export const registryMissingWhy = 'needs docker-registry (Debian package docker-registry), openssl and htpasswd (apache2-utils)';

// ---------------------------------------------------------------------------------------------
// Certificates

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A self-signed RSA certificate (and key) made with openssl, with an IP or DNS SAN when given. */
export function makeSelfSignedCert(dir: string, name: string, opts: { readonly cn: string; readonly ip?: string; readonly dns?: string } = { cn: 'tsbuild-test' }): CertPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${opts.cn}`];
  if (opts.ip !== undefined) args.push('-addext', `subjectAltName=IP:${opts.ip}`);
  else if (opts.dns !== undefined) args.push('-addext', `subjectAltName=DNS:${opts.dns}`);
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { certFile, keyFile };
}

// ---------------------------------------------------------------------------------------------
// The registry process

export type RegistryAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'htpasswd'; readonly users: Readonly<Record<string, string>> }
  | { readonly kind: 'token'; readonly server: TokenServer };

export interface StartRegistryOptions {
  readonly auth?: RegistryAuth;
  /** Listen address. Default 127.0.0.1 (plain HTTP to the client); 127.0.0.2 is treated as remote. */
  readonly host?: string;
  /** Serve HTTPS with this certificate. */
  readonly tls?: CertPair;
}

export interface TestRegistry {
  /** `host:port`, the reference domain. */
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The temp dir holding config, storage and auth files (removed by stop()). */
  readonly dir: string;
  logs(): string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function configYaml(dir: string, addr: string, opts: StartRegistryOptions, authYaml: string): string {
  const tls = opts.tls ? `  tls:\n    certificate: ${opts.tls.certFile}\n    key: ${opts.tls.keyFile}\n` : '';
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: "${addr}"`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    tls + authYaml,
  ].join('\n');
}

async function authSection(dir: string, auth: RegistryAuth): Promise<string> {
  switch (auth.kind) {
    case 'none':
      return '';
    case 'htpasswd': {
      const lines = Object.entries(auth.users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
      const file = join(dir, 'htpasswd');
      await writeFile(file, `${lines.join('\n')}\n`);
      return `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${file}\n`;
    }
    case 'token': {
      const s = auth.server;
      return `auth:\n  token:\n    realm: ${s.realm}\n    service: ${s.service}\n    issuer: ${s.issuer}\n    rootcertbundle: ${s.certFile}\n`;
    }
  }
}

/** Any HTTP answer from /v2/ (200 or 401) means the registry is serving. */
function probe(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(`${url}/v2/`, { rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => req.destroy());
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts docker-registry and waits until /v2/ answers. Retries once on a port race. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-registry-'));
  try {
    const host = opts.host ?? '127.0.0.1';
    const authYaml = await authSection(dir, opts.auth ?? { kind: 'none' });
    for (let attempt = 0; ; attempt++) {
      const port = await freePort(host);
      const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      const cfg = join(dir, 'config.yml');
      await writeFile(cfg, configYaml(dir, addr, opts, authYaml));
      const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
      child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
      const url = `${opts.tls ? 'https' : 'http'}://${addr}`;
      const deadline = Date.now() + 15_000;
      let ready = false;
      while (Date.now() < deadline && child.exitCode === null) {
        if (await probe(url)) {
          ready = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!ready) {
        child.kill('SIGKILL');
        await waitExit(child, 5000);
        if (attempt < 1 && /address already in use/.test(log)) continue;
        throw new Error(`docker-registry did not start on ${addr}:\n${log}`);
      }
      const stop = async (): Promise<void> => {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 5000))) {
          child.kill('SIGKILL');
          await waitExit(child, 5000);
        }
        await rm(dir, { recursive: true, force: true });
      };
      return { host: addr, port, url, dir, logs: () => log, stop };
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The token server

export interface TokenRequestRecord {
  readonly method: string;
  readonly scopes: readonly string[];
  /** Who the token was issued to ('' for anonymous); undefined when refused. */
  readonly subject: string | undefined;
  readonly status: number;
}

export interface TokenServerOptions {
  /** username → password accepted with Basic auth. */
  readonly users?: Readonly<Record<string, string>>;
  /** OAuth2 refresh tokens (identity tokens) → username. */
  readonly refreshTokens?: Readonly<Record<string, string>>;
  /** `expires_in` of issued tokens, seconds. Default 300. */
  readonly expiresIn?: number;
  /** What anonymous callers may do. Default 'pull'. */
  readonly anonymous?: 'pull' | 'none';
}

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** The signing certificate (the registry's rootcertbundle). */
  readonly certFile: string;
  readonly requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

interface Access {
  type: string;
  name: string;
  actions: string[];
}

function parseScopes(scopes: readonly string[], allowed: (action: string) => boolean): Access[] {
  const out: Access[] = [];
  for (const s of scopes) {
    const first = s.indexOf(':');
    const last = s.lastIndexOf(':');
    if (first < 0 || last === first) continue;
    out.push({ type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter((a) => a && allowed(a)) });
  }
  return out;
}

/** Starts a token service on 127.0.0.1 issuing RS256 JWS tokens with an x5c chain. */
export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-token-'));
  const { certFile, keyFile } = makeSelfSignedCert(dir, 'token-signer', { cn: 'tsbuild test token issuer' });
  const key = await readFile(keyFile, 'utf8');
  const certDer = (await readFile(certFile, 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const service = 'tsbuild-test-registry';
  const issuer = 'tsbuild-test-issuer';
  const requests: TokenRequestRecord[] = [];
  const expiresIn = opts.expiresIn ?? 300;

  const issue = (subject: string, scopes: readonly string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const anonymous = subject === '';
    const access = parseScopes(scopes, (a) => !anonymous || ((opts.anonymous ?? 'pull') === 'pull' && a === 'pull'));
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = { iss: issuer, sub: subject, aud: service, exp: now + expiresIn, nbf: now - 5, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${signing}.${b64url(sign('RSA-SHA256', Buffer.from(signing), key))}`;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let scopes = url.searchParams.getAll('scope');
      let subject: string | undefined = '';
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const user = form.get('grant_type') === 'refresh_token' ? opts.refreshTokens?.[form.get('refresh_token') ?? ''] : undefined;
        subject = user;
      } else if (basic) {
        const [u, ...rest] = Buffer.from(basic[1] as string, 'base64').toString().split(':');
        subject = u !== undefined && opts.users?.[u] === rest.join(':') ? u : undefined;
      }
      if (subject === undefined) {
        requests.push({ method: req.method ?? '', scopes, subject, status: 401 });
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
        return;
      }
      requests.push({ method: req.method ?? '', scopes, subject, status: 200 });
      const token = issue(subject, scopes);
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = req.method === 'POST' ? { access_token: token, expires_in: expiresIn } : { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() };
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { DirBlobStore } from './registry-blob-store.js';
