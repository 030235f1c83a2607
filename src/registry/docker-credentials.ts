/**
 * A CredentialStore backed by the docker CLI's config: `credHelpers` / `credsStore` helpers first,
 * then the `auths` entry (base64 `auth`, `username`/`password`, `identitytoken`, `registrytoken`).
 * The file is re-read on every lookup so a `tsbuild login` in another process is seen at once.
 */
import { helperErase, helperGet, helperStore } from './credential-helper.js';
import type { DockerAuthEntry, DockerConfigLocation } from './docker-config.js';
import { authKeyFor, findAuthEntry, helperFor, keyMatches, readDockerConfig, writeDockerConfig } from './docker-config.js';
import { RegistryError } from './errors.js';
import type { CredentialStore, Credentials, SignalOptions } from './types.js';

export type DockerCredentialsOptions = DockerConfigLocation;

/** Decodes one `auths` entry. */
export function credentialsFromEntry(entry: DockerAuthEntry, where: string): Credentials {
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}) };
  if (entry.registrytoken) return { kind: 'registry-token', token: entry.registrytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new RegistryError('DOCKER_CONFIG_INVALID', `${where}: "auth" is not base64 of username:password`);
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) return { kind: 'basic', username: entry.username, password: entry.password };
  return { kind: 'anonymous' };
}

export class DockerConfigCredentials implements CredentialStore {
  private readonly loc: DockerConfigLocation;

  constructor(opts: DockerCredentialsOptions = {}) {
    this.loc = opts;
  }

  async get(domain: string, opts: SignalOptions = {}): Promise<Credentials> {
    const cfg = await readDockerConfig({ ...this.loc, ...opts });
    const helper = helperFor(cfg, domain);
    if (helper !== undefined) {
      const c = await helperGet(helper, authKeyFor(domain), { ...this.helperEnv(), ...opts });
      if (c.kind !== 'anonymous') return c;
    }
    const entry = findAuthEntry(cfg, domain);
    return entry ? credentialsFromEntry(entry, `${cfg.path}: auths[${JSON.stringify(authKeyFor(domain))}]`) : { kind: 'anonymous' };
  }

  /**
   * Saves username/password for `domain`: through the configured helper when there is one, else as
   * a base64 `auth` entry in the file. Other keys of the file are kept.
   */
  async store(domain: string, username: string, password: string, opts: SignalOptions = {}): Promise<{ readonly path: string; readonly helper?: string }> {
    const cfg = await readDockerConfig({ ...this.loc, ...opts });
    const helper = helperFor(cfg, domain);
    const key = authKeyFor(domain);
    const auths = { ...((cfg.raw['auths'] as Record<string, unknown> | undefined) ?? {}) };
    for (const k of Object.keys(auths)) if (k !== key && keyMatches(k, domain)) delete auths[k];
    if (helper !== undefined) {
      await helperStore(helper, key, username, password, { ...this.helperEnv(), ...opts });
      // docker keeps an empty entry so `docker info` lists the registry; no secret in the file.
      auths[key] = {};
      await writeDockerConfig(cfg.path, { ...cfg.raw, auths }, opts);
      return { path: cfg.path, helper };
    }
    auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
    await writeDockerConfig(cfg.path, { ...cfg.raw, auths }, opts);
    return { path: cfg.path };
  }

  /** Forgets `domain`'s credentials (helper and file). False when there were none in the file. */
  async erase(domain: string, opts: SignalOptions = {}): Promise<boolean> {
    const cfg = await readDockerConfig({ ...this.loc, ...opts });
    const helper = helperFor(cfg, domain);
    if (helper !== undefined) await helperErase(helper, authKeyFor(domain), { ...this.helperEnv(), ...opts });
    const auths = { ...((cfg.raw['auths'] as Record<string, unknown> | undefined) ?? {}) };
    let removed = false;
    for (const k of Object.keys(auths)) {
      if (keyMatches(k, domain)) {
        delete auths[k];
        removed = true;
      }
    }
    if (removed) await writeDockerConfig(cfg.path, { ...cfg.raw, auths }, opts);
    return removed || helper !== undefined;
  }

  private helperEnv(): { env?: NodeJS.ProcessEnv } {
    return this.loc.env ? { env: this.loc.env } : {};
  }
}

/** A fixed table of credentials by registry domain, for tests and embedding. */
export class StaticCredentials implements CredentialStore {
  private readonly table: ReadonlyMap<string, Credentials>;

  constructor(table: Readonly<Record<string, Credentials>> | ReadonlyMap<string, Credentials>) {
    this.table = table instanceof Map ? table : new Map(Object.entries(table));
  }

  get(domain: string): Promise<Credentials> {
    return Promise.resolve(this.table.get(domain) ?? { kind: 'anonymous' });
  }
}
