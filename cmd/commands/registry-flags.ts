/**
 * Flags of every command that contacts a registry (build, pull, push, login): which registries are
 * plain HTTP and which extra CA to trust. Loopback registries (localhost, 127.0.0.1, ::1) are
 * always plain HTTP, as in docker. Credentials are the user's: the docker config directory is
 * resolved here, from the command's environment, and sent with the request.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FlagSpec, ParsedArgs } from '../cli/args.js';
import { flagList, flagString } from '../cli/args.js';
import type { CommandContext } from '../cli/command.js';
import { dockerConfigDir } from '../../src/util/docker-config-dir.js';
import { UserInputError } from '../../src/util/errors.js';
import type { RegistryAccess } from '../../src/client/types.js';

export const REGISTRY_FLAGS: readonly FlagSpec[] = [
  { name: 'insecure-registry', kind: 'list', placeholder: 'HOST[:PORT]', description: 'reach this registry over plain HTTP (loopback ones always are)' },
  { name: 'registry-ca', kind: 'string', placeholder: 'FILE', description: 'PEM file of extra CA certificates to trust for registries' },
];

/** Where the user's registry credentials are: `$DOCKER_CONFIG`, else `~/.docker`. */
export function credentialsAccess(ctx: CommandContext): RegistryAccess {
  return { dockerConfigDir: dockerConfigDir(ctx.io.env) };
}

export function registryAccess(args: ParsedArgs, ctx: CommandContext): RegistryAccess {
  const insecure = flagList(args, 'insecure-registry').map((h) => h.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
  const ca = flagString(args, 'registry-ca');
  const caFile = ca === undefined ? undefined : resolve(ctx.io.cwd, ca);
  if (caFile !== undefined && !existsSync(caFile)) throw new UserInputError('REGISTRY_CA_NOT_FOUND', `--registry-ca: ${ca}: no such file`);
  return { ...(insecure.length ? { insecureRegistries: insecure } : {}), ...(caFile !== undefined ? { caFile } : {}), ...credentialsAccess(ctx) };
}

/** Docker's 12-hex-digit short form of a digest, for per-layer lines. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
