/**
 * Secrets and SSH agents for RUN mounts: where their bytes and sockets come from (`--secret`,
 * `--ssh` as docker buildx spells them), and resolving a mount's id to an ExecMount, with
 * `required=true` enforced. Secret values are only ever held in memory and in the run's tmpfs.
 */
import { readFile, stat } from 'node:fs/promises';
import { UserInputError } from '../../util/errors.js';
import { ExecErrorCode } from './errors.js';
import { errnoCode } from './root-path.js';
import type { SecretExecMount, SshExecMount } from './types.js';

export type SecretSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string };

/** Looks secrets up by id. `undefined` means "not provided", which is an error only for required mounts. */
export interface SecretProvider {
  get(id: string, signal: AbortSignal): Promise<Uint8Array | undefined>;
}

export interface SecretStoreOptions {
  readonly sources: ReadonlyMap<string, SecretSource>;
  /** The client's environment, for env sources. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Secrets given on the command line; files are read when a RUN asks for them. */
export class SecretStore implements SecretProvider {
  private readonly opts: SecretStoreOptions;

  constructor(opts: SecretStoreOptions) {
    this.opts = opts;
  }

  async get(id: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const src = this.opts.sources.get(id);
    if (src === undefined) return undefined;
    if (src.kind === 'env') {
      const v = this.opts.env[src.name];
      return v === undefined ? undefined : Buffer.from(v, 'utf8');
    }
    try {
      return await readFile(src.path, { signal });
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') {
        throw new UserInputError(ExecErrorCode.secretNotFound, `secret ${id}: file ${src.path} does not exist`);
      }
      throw e;
    }
  }
}

function parseCsv(spec: string, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserInputError('INVALID_FLAG', `invalid ${flag} value ${JSON.stringify(spec)}: expected key=value pairs`);
    out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  return out;
}

/**
 * Parses a `--secret` value: `id=ID[,src|source=PATH]`, `id=ID,env=VAR`, with an optional
 * `type=file|env`. A bare `id=ID` reads the environment variable ID when set, else the file ID
 * (docker buildx's rule).
 */
export function parseSecretFlag(spec: string, env: Readonly<Record<string, string | undefined>>): { id: string; source: SecretSource } {
  const kv = parseCsv(spec, '--secret');
  const id = kv.get('id');
  if (id === undefined || id === '') throw new UserInputError('INVALID_FLAG', `invalid --secret value ${JSON.stringify(spec)}: id= is required`);
  for (const k of kv.keys()) {
    if (!['id', 'src', 'source', 'env', 'type'].includes(k)) {
      throw new UserInputError('INVALID_FLAG', `invalid --secret value ${JSON.stringify(spec)}: unknown key ${k}`);
    }
  }
  const type = kv.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env') {
    throw new UserInputError('INVALID_FLAG', `invalid --secret value ${JSON.stringify(spec)}: type must be file or env`);
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
export function parseSshFlag(spec: string, env: Readonly<Record<string, string | undefined>>): { id: string; socketPath: string } {
  const eq = spec.indexOf('=');
  const id = eq < 0 ? spec : spec.slice(0, eq);
  const path = eq < 0 ? env['SSH_AUTH_SOCK'] : spec.slice(eq + 1);
  if (id === '') throw new UserInputError('INVALID_FLAG', `invalid --ssh value ${JSON.stringify(spec)}: an id is required`);
  if (path === undefined || path === '') {
    throw new UserInputError(ExecErrorCode.sshNotFound, `--ssh ${id}: SSH_AUTH_SOCK is not set; start an ssh-agent or give a socket path (--ssh ${id}=PATH)`);
  }
  return { id, socketPath: path };
}

/** A `--mount=type=secret` as the Dockerfile states it. */
export interface SecretMountSpec {
  readonly id: string;
  /** Default `/run/secrets/<id>`. */
  readonly target?: string;
  readonly required: boolean;
  /** Default 0o400. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

function secretMissing(id: string): UserInputError {
  return new UserInputError(ExecErrorCode.secretNotFound, `secret ${id} not found: pass it with --secret id=${id},src=PATH (or mark the mount required=false)`);
}

/** The ExecMount for a secret mount; undefined when an optional secret is not provided (no mount). */
export async function resolveSecretMount(spec: SecretMountSpec, provider: SecretProvider, signal: AbortSignal): Promise<SecretExecMount | undefined> {
  const data = await provider.get(spec.id, signal);
  if (data === undefined) {
    if (spec.required) throw secretMissing(spec.id);
    return undefined;
  }
  return {
    kind: 'secret',
    target: spec.target ?? `/run/secrets/${spec.id}`,
    data,
    mode: spec.mode ?? 0o400,
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
  };
}

/** `--mount=type=secret,env=NAME`: the secret's value as an environment variable. */
export interface SecretEnvSpec {
  readonly id: string;
  readonly name: string;
  readonly required: boolean;
}

export async function resolveSecretEnv(specs: readonly SecretEnvSpec[], provider: SecretProvider, signal: AbortSignal): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const data = await provider.get(s.id, signal);
    if (data === undefined) {
      if (s.required) throw secretMissing(s.id);
      continue;
    }
    out[s.name] = Buffer.from(data).toString('utf8');
  }
  return out;
}

/** A `--mount=type=ssh` as the Dockerfile states it. */
export interface SshMountSpec {
  /** Default `default`. */
  readonly id?: string;
  /** Default `/run/buildkit/ssh_agent.<index>` (BuildKit's). */
  readonly target?: string;
  readonly required: boolean;
  /** Default 0o600. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface ResolveSshOptions {
  /** Agent sockets by id (from `--ssh`). */
  readonly agents: ReadonlyMap<string, string>;
  /** Position among the RUN's ssh mounts, for the default target. */
  readonly index: number;
}

/** The ExecMount for an ssh mount; undefined when an optional agent is not forwarded. */
export async function resolveSshMount(spec: SshMountSpec, opts: ResolveSshOptions): Promise<SshExecMount | undefined> {
  const id = spec.id ?? 'default';
  const socketPath = opts.agents.get(id);
  if (socketPath === undefined) {
    if (!spec.required) return undefined;
    throw new UserInputError(ExecErrorCode.sshNotFound, `no SSH agent forwarded for id ${JSON.stringify(id)}: pass --ssh ${id} (uses SSH_AUTH_SOCK) or --ssh ${id}=SOCKET`);
  }
  let isSocket = false;
  try {
    isSocket = (await stat(socketPath)).isSocket();
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  if (!isSocket) {
    throw new UserInputError(ExecErrorCode.sshNotFound, `SSH agent socket ${socketPath} for id ${JSON.stringify(id)} does not exist or is not a socket`);
  }
  return {
    kind: 'ssh',
    target: spec.target ?? `/run/buildkit/ssh_agent.${opts.index}`,
    socketPath,
    mode: spec.mode ?? 0o600,
    uid: spec.uid ?? 0,
    gid: spec.gid ?? 0,
  };
}
