/**
 * Secrets and SSH agents for RUN mounts: resolving a mount's id to an ExecMount, with
 * `required=true` enforced. Where the bytes and sockets come from (`--secret`, `--ssh`) is the
 * client's business (src/client/build-flags.ts). Secret values are only ever held in memory and in
 * the run's tmpfs.
 */
import { stat } from 'node:fs/promises';
import { UserInputError } from '../../util/errors.js';
import { ExecErrorCode } from './errors.js';
import { errnoCode } from './root-path.js';
import type { SecretExecMount, SshExecMount } from './types.js';

/**
 * Looks secrets up by id. `undefined` means "not provided", which is an error only for required
 * mounts. The values live with the client (files, its environment) and are asked for when a RUN
 * mounts them; the engine never holds more than the running step needs.
 */
export interface SecretProvider {
  get(id: string, signal: AbortSignal): Promise<Uint8Array | undefined>;
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
