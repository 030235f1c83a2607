/**
 * The docker CLI's config file (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`):
 * reading it, finding the `auths` entry for a registry however its key is spelled, and rewriting it
 * atomically with mode 0600 while keeping every key tsbuild does not own.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dockerConfigDir } from '../util/docker-config-dir.js';
import { throwIfAborted } from '../util/errors.js';
import { RegistryError } from './errors.js';
import { DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN } from '../oci/reference.js';
import { DOCKER_HUB_AUTH_KEY, DOCKER_HUB_API_HOST } from './hosts.js';
import type { SignalOptions } from './types.js';

/** One `auths` entry as docker writes it. All fields optional. */
export interface DockerAuthEntry {
  /** base64 of `username:password`. */
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
}

/** The parsed file; `raw` keeps every key so rewriting preserves what others put there. */
export interface DockerConfig {
  readonly path: string;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly auths: Readonly<Record<string, DockerAuthEntry>>;
  readonly credHelpers: Readonly<Record<string, string>>;
  readonly credsStore: string | undefined;
}

export interface DockerConfigLocation {
  /** Environment to read DOCKER_CONFIG and HOME from. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Explicit config directory (overrides DOCKER_CONFIG). */
  readonly configDir?: string;
}

/** `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`. */
export function dockerConfigPath(loc: DockerConfigLocation = {}): string {
  return join(loc.configDir ?? dockerConfigDir(loc.env ?? process.env), 'config.json');
}

/** The `auths` key docker uses for a registry (`https://index.docker.io/v1/` for Docker Hub). */
export function authKeyFor(domain: string): string {
  return isDockerHub(domain) ? DOCKER_HUB_AUTH_KEY : domain;
}

function isDockerHub(host: string): boolean {
  return host === DEFAULT_DOMAIN || host === LEGACY_DEFAULT_DOMAIN || host === DOCKER_HUB_API_HOST;
}

/** Docker's ConvertToHostname: `https://host:5000/v1/` → `host:5000`. */
export function keyToHost(key: string): string {
  let s = key.replace(/^https?:\/\//, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s;
}

/** True when an `auths`/`credHelpers` key names the registry `domain`. */
export function keyMatches(key: string, domain: string): boolean {
  const host = keyToHost(key);
  return host === domain || (isDockerHub(host) && isDockerHub(domain));
}

function objectOf(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Reads the config; a missing file is an empty config. Throws DOCKER_CONFIG_INVALID on bad JSON. */
export async function readDockerConfig(loc: DockerConfigLocation & SignalOptions = {}): Promise<DockerConfig> {
  throwIfAborted(loc.signal);
  const path = dockerConfigPath(loc);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path, raw: {}, auths: {}, credHelpers: {}, credsStore: undefined };
    throw new RegistryError('DOCKER_CONFIG_INVALID', `${path}: cannot read docker config: ${(e as Error).message}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    throw new RegistryError('DOCKER_CONFIG_INVALID', `${path}: docker config is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RegistryError('DOCKER_CONFIG_INVALID', `${path}: docker config must be a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  const auths: Record<string, DockerAuthEntry> = {};
  for (const [k, v] of Object.entries(objectOf(o['auths']))) {
    const e = objectOf(v);
    const str = (name: string): { [n: string]: string } => (typeof e[name] === 'string' && e[name] !== '' ? { [name]: e[name] as string } : {});
    auths[k] = { ...str('auth'), ...str('username'), ...str('password'), ...str('identitytoken'), ...str('registrytoken') };
  }
  const credHelpers: Record<string, string> = {};
  for (const [k, v] of Object.entries(objectOf(o['credHelpers']))) if (typeof v === 'string' && v !== '') credHelpers[k] = v;
  const credsStore = typeof o['credsStore'] === 'string' && o['credsStore'] !== '' ? o['credsStore'] : undefined;
  return { path, raw: o, auths, credHelpers, credsStore };
}

/** The helper configured for `domain` (credHelpers first, then credsStore), if any. */
export function helperFor(cfg: DockerConfig, domain: string): string | undefined {
  for (const [k, v] of Object.entries(cfg.credHelpers)) if (keyMatches(k, domain)) return v;
  return cfg.credsStore;
}

/** The `auths` entry for `domain`: the exact key first, then any spelling of the same host. */
export function findAuthEntry(cfg: DockerConfig, domain: string): DockerAuthEntry | undefined {
  const exact = cfg.auths[authKeyFor(domain)];
  if (exact) return exact;
  for (const [k, v] of Object.entries(cfg.auths)) if (keyMatches(k, domain)) return v;
  return undefined;
}

/**
 * Writes `raw` back to `path`: temp file with mode 0600 in the same directory, fsync, rename, so a
 * crash never leaves a half-written config and the secrets are never world-readable.
 */
export async function writeDockerConfig(path: string, raw: Readonly<Record<string, unknown>>, opts: SignalOptions = {}): Promise<void> {
  throwIfAborted(opts.signal);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(raw, null, '\t')}\n`);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
