/**
 * `tsbuild login` / `logout`: verify credentials against the registry before saving them (as
 * docker does), then write them to the docker config or its credential helper.
 */
import { UserInputError } from '../util/errors.js';
import { RegistryClient } from './client.js';
import type { DockerConfigLocation } from './docker-config.js';
import { keyToHost } from './docker-config.js';
import { DockerConfigCredentials, StaticCredentials } from './docker-credentials.js';
import { DEFAULT_DOMAIN, isValidDomain, LEGACY_DEFAULT_DOMAIN } from '../oci/reference.js';
import { DOCKER_HUB_API_HOST } from './hosts.js';
import type { RegistryClientOptions, SignalOptions } from './types.js';

/** `docker.io` for none/Hub spellings; `host[:port]` for anything else (scheme and path dropped). */
export function normalizeServer(server: string | undefined): string {
  if (server === undefined || server.trim() === '') return DEFAULT_DOMAIN;
  const host = keyToHost(server.trim());
  if (host === LEGACY_DEFAULT_DOMAIN || host === DOCKER_HUB_API_HOST) return DEFAULT_DOMAIN;
  if (!isValidDomain(host)) throw new UserInputError('INVALID_REGISTRY', `invalid registry address "${server}": expected host[:port]`);
  return host;
}

export interface LoginOptions extends SignalOptions, DockerConfigLocation {
  /** Registry address; default Docker Hub. */
  readonly server?: string;
  readonly username: string;
  readonly password: string;
  /** Transport settings for the verification request (insecure registries, CA file…). */
  readonly client?: Omit<RegistryClientOptions, 'credentials' | 'env'>;
}

export interface LoginResult {
  readonly domain: string;
  /** The config file written. */
  readonly configPath: string;
  /** The credential helper that holds the secret, when one is configured. */
  readonly helper?: string;
}

export async function login(opts: LoginOptions): Promise<LoginResult> {
  const domain = normalizeServer(opts.server);
  if (opts.username === '') throw new UserInputError('LOGIN_USERNAME', 'login: a username is required');
  const sig = opts.signal ? { signal: opts.signal } : {};
  const client = new RegistryClient({
    ...opts.client,
    credentials: new StaticCredentials({ [domain]: { kind: 'basic', username: opts.username, password: opts.password } }),
  });
  try {
    await client.checkAuth(domain, sig);
  } finally {
    client.close();
  }
  const loc = { ...(opts.env ? { env: opts.env } : {}), ...(opts.configDir !== undefined ? { configDir: opts.configDir } : {}) };
  const saved = await new DockerConfigCredentials(loc).store(domain, opts.username, opts.password, sig);
  return { domain, configPath: saved.path, ...(saved.helper !== undefined ? { helper: saved.helper } : {}) };
}

export interface LogoutOptions extends SignalOptions, DockerConfigLocation {
  readonly server?: string;
}

/** Removes saved credentials. False when none were saved. */
export async function logout(opts: LogoutOptions = {}): Promise<boolean> {
  const domain = normalizeServer(opts.server);
  const loc = { ...(opts.env ? { env: opts.env } : {}), ...(opts.configDir !== undefined ? { configDir: opts.configDir } : {}) };
  return new DockerConfigCredentials(loc).erase(domain, opts.signal ? { signal: opts.signal } : {});
}
