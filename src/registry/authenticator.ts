/**
 * Registry authentication: learns each registry's challenge from its first 401, then authorizes
 * later requests up front. Basic sends the credentials; Bearer trades them (or nothing, for
 * anonymous pulls) at the token service for a token scoped to the repositories and actions the
 * request needs, cached per (registry, realm, service, scopes) until shortly before `expires_in`.
 */
import { assertNever, errorMessage } from '../util/errors.js';
import { readAll, readErrorText } from './body.js';
import { describeStatus, RegistryError } from './errors.js';
import type { RetryPolicy } from './retry.js';
import { backoffMs, isRetryableStatus, sleep } from './retry.js';
import type { Transport } from './transport.js';
import { isRetryableTransportError, TransportError } from './transport.js';
import type { Challenge } from './www-authenticate.js';
import { parseWwwAuthenticate } from './www-authenticate.js';
import type { CredentialStore, Credentials } from './types.js';

/** `repository:<path>:<actions>` scope of a registry token. */
export function repositoryScope(path: string, actions: readonly ('pull' | 'push')[]): string {
  return `repository:${path}:${actions.join(',')}`;
}

const ACTION_ORDER = ['pull', 'push', 'delete', '*'];

/**
 * One scope per resource with the union of its actions, resources sorted: the canonical form
 * used both as the token cache key and in the token request.
 */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const s of scopes) {
    const cut = s.lastIndexOf(':');
    if (cut <= 0) continue;
    const resource = s.slice(0, cut);
    const set = byResource.get(resource) ?? new Set<string>();
    for (const a of s.slice(cut + 1).split(',')) if (a) set.add(a);
    byResource.set(resource, set);
  }
  const rank = (a: string): number => (ACTION_ORDER.includes(a) ? ACTION_ORDER.indexOf(a) : ACTION_ORDER.length);
  return [...byResource]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([r, acts]) => `${r}:${[...acts].sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : 1)).join(',')}`);
}

/** Token lifetime when the token service does not say (the distribution token spec's default). */
const DEFAULT_EXPIRES_IN_S = 60;
const MAX_TOKEN_BYTES = 1024 * 1024;

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export interface AuthenticatorOptions {
  readonly transport: Transport;
  readonly credentials: CredentialStore;
  readonly retry: RetryPolicy;
  /** Clock, for tests of expiry. Default Date.now. */
  readonly now?: () => number;
}

/** What the caller should do after a 401. */
export interface ChallengeOutcome {
  /** True when a new attempt carries different authorization and may succeed. */
  readonly retry: boolean;
  /** The scopes for the new attempt (the registry may ask for more via `scope=`). */
  readonly scopes: readonly string[];
}

export class Authenticator {
  private readonly opts: AuthenticatorOptions;
  private readonly now: () => number;
  /** A registry's auth challenge; null once it answered without asking for auth. */
  private readonly challenges = new Map<string, Challenge | null>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  private readonly creds = new Map<string, Promise<Credentials>>();
  /** Token requests sent, by cache key; lets tests and traces see the cache working. */
  readonly tokenFetches = new Map<string, number>();

  constructor(opts: AuthenticatorOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** Credentials for a registry, looked up once per client. */
  credentialsFor(domain: string, signal?: AbortSignal): Promise<Credentials> {
    let p = this.creds.get(domain);
    if (!p) {
      p = this.opts.credentials.get(domain, signal ? { signal } : {});
      // A failed lookup (helper crashed) is retried next time instead of being remembered.
      p.catch(() => this.creds.delete(domain));
      this.creds.set(domain, p);
    }
    return p;
  }

  /** True once the registry's scheme (or that it needs none) is known. */
  knows(domain: string): boolean {
    return this.challenges.has(domain);
  }

  /** Records what a registry's `/v2/` answered: its challenge on 401, or that it needs no auth. */
  learn(domain: string, status: number, header: string | string[] | undefined): void {
    if (status !== 401) {
      if (!this.challenges.has(domain)) this.challenges.set(domain, null);
      return;
    }
    const all = parseWwwAuthenticate(header);
    const ch = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (ch) this.challenges.set(domain, ch);
  }

  /** The Authorization header for a request, or undefined while the registry's scheme is unknown. */
  async authorization(domain: string, scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
    const ch = this.challenges.get(domain);
    if (!ch) return undefined;
    const creds = await this.credentialsFor(domain, signal);
    const basic = ch.scheme === 'basic';
    switch (creds.kind) {
      case 'basic':
        return basic ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : `Bearer ${(await this.token(domain, ch, creds, scopes, signal)).token}`;
      case 'registry-token':
        return basic ? undefined : `Bearer ${creds.token}`;
      case 'anonymous':
      case 'identity-token':
        // Token services hand out anonymous tokens (public pulls); Basic has nothing to send.
        return basic ? undefined : `Bearer ${(await this.token(domain, ch, creds, scopes, signal)).token}`;
      default:
        return assertNever(creds, 'credentials');
    }
  }

  /**
   * Handles a 401: remembers the challenge, drops the token that failed, and says whether to try
   * again. `failed` is the Authorization header the rejected request carried.
   */
  async onUnauthorized(domain: string, header: string | string[] | undefined, scopes: readonly string[], failed: string | undefined, signal?: AbortSignal): Promise<ChallengeOutcome> {
    const all = parseWwwAuthenticate(header);
    const ch = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (!ch) return { retry: false, scopes };
    const previous = this.challenges.get(domain);
    this.challenges.set(domain, ch);
    let next = scopes;
    const wanted = ch.params['scope'];
    if (ch.scheme === 'bearer' && wanted) next = mergeScopes([...scopes, ...wanted.split(' ')]);
    if (failed === undefined) {
      const auth = await this.authorization(domain, next, signal);
      return { retry: auth !== undefined, scopes: next };
    }
    if (failed.startsWith('Bearer ')) {
      // The token expired early or lacked a scope: forget it and make one fresh attempt (the
      // caller bounds the rounds). A fixed registry token cannot be renewed.
      for (const [k, v] of this.tokens) if (`Bearer ${v.token}` === failed) this.tokens.delete(k);
      const creds = await this.credentialsFor(domain, signal);
      return { retry: creds.kind !== 'registry-token', scopes: next };
    }
    // Basic credentials were refused: asking again with the same ones is pointless.
    return { retry: previous?.scheme !== ch.scheme && ch.scheme === 'bearer', scopes: next };
  }

  private token(domain: string, ch: Challenge, creds: Credentials, scopes: readonly string[], signal?: AbortSignal): Promise<CachedToken> {
    const realm = ch.params['realm'] ?? '';
    const service = ch.params['service'] ?? '';
    const merged = mergeScopes(scopes);
    const key = `${domain} ${realm} ${service} ${merged.join(' ')}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return Promise.resolve(cached);
    let p = this.inflight.get(key);
    if (!p) {
      this.tokenFetches.set(key, (this.tokenFetches.get(key) ?? 0) + 1);
      p = this.fetchToken(domain, realm, service, creds, merged, signal).then(
        (t) => {
          this.tokens.set(key, t);
          this.inflight.delete(key);
          return t;
        },
        (e: unknown) => {
          this.inflight.delete(key);
          throw e;
        },
      );
      this.inflight.set(key, p);
    }
    return p;
  }

  private async fetchToken(domain: string, realm: string, service: string, creds: Credentials, scopes: readonly string[], signal?: AbortSignal): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError('REGISTRY_PROTOCOL', `${domain}: the registry's Bearer challenge has no valid realm (${JSON.stringify(realm)})`);
    }
    const sig = signal ? { signal } : {};
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        if (creds.kind === 'identity-token') {
          // OAuth2 refresh-token grant, as docker does for identity tokens.
          const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.token, service, client_id: 'tsbuild', access_type: 'offline' });
          if (scopes.length) form.set('scope', scopes.join(' '));
          res = await this.opts.transport.request({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), ...sig });
        } else {
          const u = new URL(url);
          if (service) u.searchParams.set('service', service);
          for (const s of scopes) u.searchParams.append('scope', s);
          const headers: Record<string, string> = {};
          if (creds.kind === 'basic') {
            u.searchParams.set('account', creds.username);
            headers['authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
          }
          res = await this.opts.transport.request({ method: 'GET', url: u, headers, ...sig });
        }
      } catch (e) {
        if (isRetryableTransportError(e) && attempt < this.opts.retry.retries) {
          await sleep(backoffMs(this.opts.retry, attempt), signal);
          continue;
        }
        if (e instanceof TransportError) throw new RegistryError('REGISTRY_UNREACHABLE', `${domain}: cannot reach the token service ${url.origin}: ${errorMessage(e)}`, { cause: e });
        throw e;
      }
      if (res.status === 200) {
        const body = await readAll(res.body, MAX_TOKEN_BYTES);
        return this.parseTokenResponse(domain, url, body);
      }
      const text = await readErrorText(res.body);
      if (isRetryableStatus(res.status) && attempt < this.opts.retry.retries) {
        await sleep(backoffMs(this.opts.retry, attempt, header(res.headers['retry-after'])), signal);
        continue;
      }
      const code = res.status === 401 || res.status === 403 ? 'REGISTRY_UNAUTHORIZED' : isRetryableStatus(res.status) ? 'REGISTRY_SERVER_ERROR' : 'REGISTRY_PROTOCOL';
      const who = creds.kind === 'anonymous' ? 'anonymous access' : 'the credentials';
      throw new RegistryError(code, `${domain}: the token service ${url.origin} refused ${who} (${describeStatus(res.status, text)})`, { status: res.status });
    }
  }

  private parseTokenResponse(domain: string, url: URL, body: Buffer): CachedToken {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new RegistryError('REGISTRY_PROTOCOL', `${domain}: the token service ${url.origin} answered with invalid JSON`);
    }
    const token = typeof v['token'] === 'string' && v['token'] ? v['token'] : typeof v['access_token'] === 'string' ? v['access_token'] : '';
    if (!token) throw new RegistryError('REGISTRY_PROTOCOL', `${domain}: the token service ${url.origin} returned no token`);
    const expiresIn = typeof v['expires_in'] === 'number' && v['expires_in'] > 0 ? v['expires_in'] : DEFAULT_EXPIRES_IN_S;
    // Renew a little early so a token does not expire between our check and the registry's.
    const margin = Math.min(10_000, expiresIn * 100);
    return { token, expiresAt: this.now() + expiresIn * 1000 - margin };
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
