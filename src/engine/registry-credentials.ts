/**
 * Credentials for one registry host from a docker config (its credential helpers included), for a
 * caller that answers a remote engine's questions: tsbuild's gRPC client resolves what tsbuildd
 * asks for on the client's machine, where the docker config is, and sends only that host's
 * credentials. Also the registry host an image reference names (`alpine` → `docker.io`).
 */
import { parseReference } from '../oci/reference.js';
import { DockerConfigCredentials } from '../registry/docker-credentials.js';
import type { RegistryAccess, RegistryCredentials } from './types.js';

/** What the docker config at `access.dockerConfigDir` (else `$DOCKER_CONFIG`, `~/.docker`) holds for `host`. */
export function dockerConfigCredentials(host: string, access: RegistryAccess | undefined, signal: AbortSignal): Promise<RegistryCredentials> {
  const store = new DockerConfigCredentials(access?.dockerConfigDir !== undefined ? { configDir: access.dockerConfigDir } : {});
  return store.get(host, { signal });
}

/** The registry host of an image reference (`alpine:3` → `docker.io`, `127.0.0.1:5000/a` → `127.0.0.1:5000`). */
export function registryHostOf(ref: string): string {
  return parseReference(ref).domain;
}
