/**
 * Registry credentials on tsbuild's gRPC client: the docker config is on the client's machine, so
 * the client answers for it — a Pull or Push request carries the one host's credentials, and Solve
 * answers the daemon's `auth` requests host by host (docs/grpc.md, "Registry credentials"). The
 * lookup is the call's own `credentials` when given, else the docker config at
 * `registry.dockerConfigDir` (credential helpers included), read through the engine's entry, which
 * is loaded only when a registry is actually reached (talking to a daemon otherwise loads none of
 * it). Secret values are handed on, never logged or put in a message.
 */
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { promises as fsp } from 'node:fs';
import type { CredentialLookup, RegistryAccess } from './types.js';

/** The call's lookup, or one over the client's docker config. */
export function clientCredentials(registry: RegistryAccess | undefined, given: CredentialLookup | undefined): CredentialLookup {
  if (given) return given;
  return async (host, signal) => {
    const { Engine } = await import('../engine/index.js');
    return Engine.registryCredentials(host, registry, { signal });
  };
}

/** The registry host an image reference names (`alpine` → `docker.io`). */
export async function registryHost(ref: string): Promise<string> {
  const { Engine } = await import('../engine/index.js');
  return Engine.registryHost(ref);
}

/** The PEM bytes of `registry.caFile` (a client path), to send along; undefined without one. */
export async function caPemOf(registry: RegistryAccess | undefined): Promise<Uint8Array | undefined> {
  return registry?.caFile !== undefined ? fsp.readFile(registry.caFile) : undefined;
}
