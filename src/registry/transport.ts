/**
 * One HTTP exchange with a registry over node:http/https: picks the scheme (plain HTTP only for
 * loopback and registries listed as insecure), trusts the system CAs, NODE_EXTRA_CA_CERTS and an
 * optional extra CA, follows redirects for reads (dropping credentials when the origin changes, as
 * blob storage redirects require), and reports network failures as TransportError so callers can
 * retry them. The http source (`ADD https://…`) uses it too.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { CancelledError } from '../util/errors.js';
import { trustedCas } from '../util/extra-ca.js';
import { apiHost, hostnameOf } from './hosts.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** A Buffer, or a stream (then Content-Length must be in headers). */
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Must be consumed or destroyed by the caller. */
  readonly body: IncomingMessage;
  /** The final URL after redirects. */
  readonly url: URL;
}

/** A failure below HTTP: connect, TLS, reset, timeout. `errno` is Node's code (ECONNRESET …). */
export class TransportError extends Error {
  readonly errno: string;
  /** 'connect' when no response started (safe to retry any request), 'response' after. */
  readonly phase: 'connect' | 'response';

  constructor(message: string, errno: string, phase: 'connect' | 'response', cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.errno = errno;
    this.phase = phase;
  }
}

export interface TransportOptions {
  /** Registries (`host[:port]`) reached over plain HTTP although not loopback. */
  readonly insecureRegistries?: readonly string[];
  /** Extra CA certificates (PEM file path) trusted besides the system ones. */
  readonly caFile?: string;
  readonly userAgent?: string;
  /** Socket idle timeout. Default 60 s. */
  readonly timeoutMs?: number;
  /** Parallel connections per registry. Default 8. */
  readonly maxSockets?: number;
  /** Receives one line per request (`GET https://host/v2/… 200`), for TSBUILD_TRACE=registry. */
  readonly trace?: (line: string) => void;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];
const MAX_REDIRECTS = 5;

/** The system bundle, unless NODE_EXTRA_CA_CERTS names that same file (trustedCas() has it then). */
function systemCas(): string[] {
  for (const f of SYSTEM_CA_BUNDLES) {
    if (f === process.env['NODE_EXTRA_CA_CERTS']) return [];
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      // try the next location
    }
  }
  return [];
}

export class Transport {
  private readonly insecure: ReadonlySet<string>;
  private readonly httpAgent: http.Agent;
  private httpsAgent: https.Agent | undefined;
  private readonly opts: TransportOptions;
  readonly userAgent: string;

  constructor(opts: TransportOptions = {}) {
    this.opts = opts;
    this.insecure = new Set(opts.insecureRegistries ?? []);
    this.userAgent = opts.userAgent ?? 'tsbuild';
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 8 });
  }

  /** `http` for loopback hosts and insecure registries, else `https`. */
  scheme(domain: string): 'http' | 'https' {
    return LOOPBACK.has(hostnameOf(domain)) || this.insecure.has(domain) ? 'http' : 'https';
  }

  /** The base URL of a registry's API (Docker Hub's `docker.io` is served by registry-1.docker.io). */
  baseUrl(domain: string): URL {
    return new URL(`${this.scheme(domain)}://${apiHost(domain)}/`);
  }

  private agentFor(url: URL): http.Agent {
    if (url.protocol === 'http:') return this.httpAgent;
    if (!this.httpsAgent) {
      // Node bundles Mozilla's CAs (plus NODE_EXTRA_CA_CERTS: util/extra-ca.ts); the system
      // bundle adds locally installed ones.
      const ca = [...trustedCas(), ...systemCas()];
      if (this.opts.caFile !== undefined) ca.push(readFileSync(this.opts.caFile, 'utf8'));
      this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: this.opts.maxSockets ?? 8, ca });
    }
    return this.httpsAgent;
  }

  /** Sends one request (following redirects for GET/HEAD) and resolves when headers arrive. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      const res = await this.once({ ...req, url, headers });
      const loc = res.headers.location;
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && loc !== undefined && (req.method === 'GET' || req.method === 'HEAD');
      if (!redirect) return res;
      res.body.resume();
      if (hop >= MAX_REDIRECTS) throw new TransportError(`too many redirects fetching ${req.url.href}`, 'EREDIRECT', 'connect');
      const next = new URL(loc, url);
      if (next.origin !== url.origin) {
        // Credentials for the registry must not leak to blob storage elsewhere.
        const { authorization: _drop, ...rest } = headers as Record<string, string>;
        headers = rest;
      }
      url = next;
    }
  }

  private once(req: HttpRequest & { readonly headers: Record<string, string> }): Promise<HttpResponse> {
    const { url, signal } = req;
    if (signal?.aborted) return Promise.reject(new CancelledError(signal.reason));
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...lowerKeys(req.headers) };
    if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
    else if (req.body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['content-length'] = '0';
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        cr.destroy(new CancelledError(signal?.reason));
      };
      const cr = mod.request(url, { method: req.method, headers, agent: this.agentFor(url) });
      cr.setTimeout(this.opts.timeoutMs ?? 60_000, () => cr.destroy(new TransportError(`timed out talking to ${url.host}`, 'ETIMEDOUT', settled ? 'response' : 'connect')));
      signal?.addEventListener('abort', onAbort, { once: true });
      cr.on('error', (e: NodeJS.ErrnoException) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        this.opts.trace?.(`${req.method} ${url.href} failed: ${e.code ?? e.message}`);
        reject(toTransportError(e, url));
      });
      cr.on('response', (res) => {
        settled = true;
        this.opts.trace?.(`${req.method} ${url.href} ${res.statusCode ?? 0}${headers['range'] ? ` (${headers['range']})` : ''}`);
        res.once('close', () => signal?.removeEventListener('abort', onAbort));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      const body = req.body;
      if (body === undefined) cr.end();
      else if (Buffer.isBuffer(body)) cr.end(body);
      else {
        body.on('error', (e) => cr.destroy(e));
        body.pipe(cr);
      }
    });
  }

  /** Closes idle keep-alive sockets. The transport stays usable. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
    this.httpsAgent = undefined;
  }
}

function lowerKeys(h: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/** Wraps a Node network error (or passes cancellation through). */
export function toTransportError(e: unknown, url: URL): Error {
  if (e instanceof CancelledError || e instanceof TransportError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return new CancelledError(err);
  const errno = err?.code ?? 'EUNKNOWN';
  return new TransportError(`${url.host}: ${err?.message ?? String(e)}`, errno, 'connect', e);
}

/** Network errors worth another attempt. */
export function isRetryableTransportError(e: unknown): boolean {
  return e instanceof TransportError && e.errno !== 'EREDIRECT' && !/^ERR_TLS|CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.errno);
}
