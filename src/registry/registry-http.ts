/**
 * Authenticated, retried requests to a registry's `/v2/` API. Answers 401 by learning the
 * challenge and retrying with credentials or a token (at most twice), retries 5xx/429 and network
 * failures with backoff when resending is safe, and turns what cannot be recovered into one
 * RegistryError that names the operation (`pull host/repo:tag: …`).
 */
import type { Readable } from 'node:stream';
import { errorMessage } from '../util/errors.js';
import type { Authenticator } from './authenticator.js';
import { drain, readErrorText } from './body.js';
import { describeStatus, parseErrorBody, RegistryError } from './errors.js';
import type { RetryPolicy } from './retry.js';
import { backoffMs, isRetryableStatus, sleep } from './retry.js';
import type { HttpMethod, HttpResponse, Transport } from './transport.js';
import { isRetryableTransportError, TransportError } from './transport.js';

export interface RegistryRequest {
  readonly domain: string;
  readonly method: HttpMethod;
  /** A path under the registry root (`/v2/…`) or an absolute URL (an upload Location). */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A buffer, or a factory for a fresh stream (called again if the request must be resent). */
  readonly body?: Buffer | (() => Promise<Readable>);
  /** Token scopes the request needs, e.g. `repository:app:pull`. */
  readonly scopes: readonly string[];
  /** The operation, for messages: `pull 127.0.0.1:5000/app:1`. */
  readonly what: string;
  readonly signal?: AbortSignal;
  /** Resending after a failure is harmless. Default true for GET/HEAD. */
  readonly idempotent?: boolean;
}

const MAX_AUTH_ROUNDS = 2;

export class RegistryHttp {
  readonly transport: Transport;
  readonly auth: Authenticator;
  readonly retry: RetryPolicy;
  private readonly pings = new Map<string, Promise<void>>();

  constructor(opts: { readonly transport: Transport; readonly auth: Authenticator; readonly retry: RetryPolicy }) {
    this.transport = opts.transport;
    this.auth = opts.auth;
    this.retry = opts.retry;
  }

  /**
   * Learns a registry's auth scheme from `GET /v2/` once, before its first real request, as
   * docker does: parallel first requests would otherwise each be answered 401 (and a streamed
   * upload body sent twice). A failed ping is forgotten; the real request reports the problem.
   */
  private ping(domain: string, signal?: AbortSignal): Promise<void> {
    if (this.auth.knows(domain)) return Promise.resolve();
    let p = this.pings.get(domain);
    if (!p) {
      p = this.transport.request({ method: 'GET', url: this.url(domain, '/v2/'), ...(signal ? { signal } : {}) }).then(
        (res) => {
          drain(res.body);
          this.auth.learn(domain, res.status, res.headers['www-authenticate']);
        },
        () => {
          this.pings.delete(domain);
        },
      );
      this.pings.set(domain, p);
    }
    return p;
  }

  url(domain: string, target: string): URL {
    return new URL(target, this.transport.baseUrl(domain));
  }

  /**
   * Sends the request. Resolves with any response the caller must interpret (2xx, 3xx, 404, 4xx
   * other than 401/403); throws RegistryError for 401, 403, exhausted 5xx and network failures.
   */
  async send(req: RegistryRequest): Promise<HttpResponse> {
    const idempotent = req.idempotent ?? (req.method === 'GET' || req.method === 'HEAD');
    const url = this.url(req.domain, req.target);
    const sig = req.signal ? { signal: req.signal } : {};
    let scopes = req.scopes;
    let authRounds = 0;
    let attempt = 0;
    await this.ping(req.domain, req.signal);
    for (;;) {
      const authorization = await this.auth.authorization(req.domain, scopes, req.signal);
      const headers = { ...req.headers, ...(authorization ? { authorization } : {}) };
      const body = typeof req.body === 'function' ? await req.body() : req.body;
      let res: HttpResponse;
      try {
        res = await this.transport.request({ method: req.method, url, headers, ...(body !== undefined ? { body } : {}), ...sig });
      } catch (e) {
        if (body !== undefined && !Buffer.isBuffer(body)) body.destroy();
        const safe = idempotent || (e instanceof TransportError && e.errno === 'ECONNREFUSED');
        if (safe && isRetryableTransportError(e) && attempt < this.retry.retries) {
          await sleep(backoffMs(this.retry, attempt++), req.signal);
          continue;
        }
        throw unreachable(req, e);
      }
      if (body !== undefined && !Buffer.isBuffer(body) && res.status >= 300) body.destroy();
      if (res.status === 401) {
        drain(res.body);
        if (authRounds < MAX_AUTH_ROUNDS) {
          authRounds++;
          const out = await this.auth.onUnauthorized(req.domain, res.headers['www-authenticate'], scopes, authorization, req.signal);
          if (out.retry) {
            scopes = out.scopes;
            continue;
          }
        }
        throw await this.unauthorized(req, res, 'REGISTRY_UNAUTHORIZED');
      }
      if (res.status === 403) throw await this.unauthorized(req, res, 'REGISTRY_DENIED');
      if (isRetryableStatus(res.status)) {
        if (idempotent && attempt < this.retry.retries) {
          drain(res.body);
          await sleep(backoffMs(this.retry, attempt++, first(res.headers['retry-after'])), req.signal);
          continue;
        }
        const text = await readErrorText(res.body);
        const tries = attempt + 1;
        throw new RegistryError('REGISTRY_SERVER_ERROR', `${req.what}: registry ${req.domain} failed: ${describeStatus(res.status, text)}${tries > 1 ? ` (after ${tries} attempts)` : ''}`, {
          status: res.status,
          registryCodes: parseErrorBody(text).map((x) => x.code),
        });
      }
      return res;
    }
  }

  private async unauthorized(req: RegistryRequest, res: HttpResponse, code: 'REGISTRY_UNAUTHORIZED' | 'REGISTRY_DENIED'): Promise<RegistryError> {
    const text = req.method === 'HEAD' ? '' : await readErrorText(res.body);
    const creds = await this.auth.credentialsFor(req.domain, req.signal).catch(() => undefined);
    const hint = code === 'REGISTRY_UNAUTHORIZED' && creds?.kind === 'anonymous' ? `; log in with: tsbuild login ${req.domain}` : '';
    const what = code === 'REGISTRY_UNAUTHORIZED' ? 'unauthorized' : 'access denied';
    return new RegistryError(code, `${req.what}: ${what} (${describeStatus(res.status, text)})${hint}`, {
      status: res.status,
      registryCodes: parseErrorBody(text).map((x) => x.code),
    });
  }
}

/** The error for a request that got no usable answer. */
export function unreachable(req: { readonly what: string; readonly domain: string }, e: unknown): Error {
  if (!(e instanceof TransportError)) return e instanceof Error ? e : new Error(String(e));
  const why = e.errno === 'ECONNREFUSED' ? 'connection refused' : errorMessage(e);
  return new RegistryError('REGISTRY_UNREACHABLE', `${req.what}: cannot reach registry ${req.domain}: ${why}`, { cause: e });
}

/** Reads a failed response into a RegistryError of the given code. */
export async function responseError(req: { readonly what: string; readonly method?: string }, res: HttpResponse, code: RegistryError['code'], summary: string): Promise<RegistryError> {
  const text = req.method === 'HEAD' ? '' : await readErrorText(res.body);
  if (req.method === 'HEAD') drain(res.body);
  return new RegistryError(code, `${req.what}: ${summary} (${describeStatus(res.status, text)})`, {
    status: res.status,
    registryCodes: parseErrorBody(text).map((x) => x.code),
  });
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
