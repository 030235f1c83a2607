/**
 * Where the docker CLI keeps its config (and so registry credentials): `$DOCKER_CONFIG`, else
 * `$HOME/.docker`. Clients resolve it from their own environment and send it as data; the registry
 * layer falls back to it for callers that name no directory.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function dockerConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  return env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
}
