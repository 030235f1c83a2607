/**
 * `--secret` and `--ssh` on the client's side, as docker buildx spells them. Secret values stay
 * with the client: the build request names no secret, and the engine asks the call's SecretLookup
 * for a value only when a RUN step mounts it (a file is read, or the client's environment looked
 * up, at that moment). SSH agents are sockets on the client; the request carries their paths.
 */
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { promises as fsp } from 'node:fs';
import { UserInputError } from '../util/errors.js';
import type { SecretLookup } from './types.js';

/** The codes of secret and agent errors (the same the engine uses for a missing secret mount). */
export const SecretErrorCode = {
  secretNotFound: 'SECRET_NOT_FOUND',
  sshNotFound: 'SSH_NOT_FOUND',
  invalidFlag: 'INVALID_FLAG',
} as const;

export type SecretSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string };

type Env = Readonly<Record<string, string | undefined>>;

function parseCsv(spec: string, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserInputError(SecretErrorCode.invalidFlag, `invalid ${flag} value ${JSON.stringify(spec)}: expected key=value pairs`);
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  return out;
}

/**
 * Parses a `--secret` value: `id=ID[,src|source=PATH]`, `id=ID,env=VAR`, with an optional
 * `type=file|env`. A bare `id=ID` reads the environment variable ID when set, else the file ID
 * (docker buildx's rule).
 */
export function parseSecretFlag(spec: string, env: Env): { id: string; source: SecretSource } {
  const kv = parseCsv(spec, '--secret');
  const id = kv.get('id');
  if (id === undefined || id === '') throw new UserInputError(SecretErrorCode.invalidFlag, `invalid --secret value ${JSON.stringify(spec)}: id= is required`);
  for (const k of kv.keys()) {
    if (!['id', 'src', 'source', 'env', 'type'].includes(k)) {
      throw new UserInputError(SecretErrorCode.invalidFlag, `invalid --secret value ${JSON.stringify(spec)}: unknown key ${k}`);
    }
  }
  const type = kv.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env') {
    throw new UserInputError(SecretErrorCode.invalidFlag, `invalid --secret value ${JSON.stringify(spec)}: type must be file or env`);
  }
  const src = kv.get('src') ?? kv.get('source');
  const envName = kv.get('env');
  if (type === 'env' || envName !== undefined) return { id, source: { kind: 'env', name: envName ?? src ?? id } };
  if (src !== undefined || type === 'file') return { id, source: { kind: 'file', path: src ?? id } };
  return { id, source: env[id] !== undefined ? { kind: 'env', name: id } : { kind: 'file', path: id } };
}

/**
 * Parses an `--ssh` value: `default` (SSH_AUTH_SOCK) or `ID=SOCKET`. Only agent sockets are
 * supported (not key files).
 */
export function parseSshFlag(spec: string, env: Env): { id: string; socketPath: string } {
  const eq = spec.indexOf('=');
  const id = eq < 0 ? spec : spec.slice(0, eq);
  const path = eq < 0 ? env['SSH_AUTH_SOCK'] : spec.slice(eq + 1);
  if (id === '') throw new UserInputError(SecretErrorCode.invalidFlag, `invalid --ssh value ${JSON.stringify(spec)}: an id is required`);
  if (path === undefined || path === '') {
    throw new UserInputError(SecretErrorCode.sshNotFound, `--ssh ${id}: SSH_AUTH_SOCK is not set; start an ssh-agent or give a socket path (--ssh ${id}=PATH)`);
  }
  return { id, socketPath: path };
}

/**
 * The lookup a build call hands the engine: files are read and `env` is consulted when a RUN asks
 * for the secret, not before.
 */
export function secretLookup(sources: ReadonlyMap<string, SecretSource>, env: Env): SecretLookup {
  return async (id, signal) => {
    const src = sources.get(id);
    if (src === undefined) return undefined;
    if (src.kind === 'env') {
      const v = env[src.name];
      return v === undefined ? undefined : Buffer.from(v, 'utf8');
    }
    try {
      return await fsp.readFile(src.path, { signal });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UserInputError(SecretErrorCode.secretNotFound, `secret ${id}: file ${src.path} does not exist`);
      }
      throw e;
    }
  };
}
