/**
 * `tsbuild login` / `logout` run on the client's side, as docker's do: credentials belong to the
 * user's docker config (or credential helper), not to the engine or its data root.
 */
import { login, logout, type LoginResult } from '../registry/login.js';
import type { RegistryAccess } from '../engine/registry-access.js';

export type { LoginResult };

export interface LoginRequest {
  /** Registry `host[:port]` (scheme and path are dropped); default Docker Hub. */
  readonly server?: string;
  readonly username: string;
  readonly password: string;
  readonly registry?: Omit<RegistryAccess, 'env'>;
  /** Whose docker config: `$DOCKER_CONFIG`, `$HOME`. */
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}

/** Verifies the credentials against the registry, then saves them. */
export function loginRegistry(req: LoginRequest): Promise<LoginResult> {
  const access = req.registry ?? {};
  return login({
    username: req.username,
    password: req.password,
    env: req.env,
    signal: req.signal,
    ...(req.server !== undefined ? { server: req.server } : {}),
    client: {
      ...(access.insecureRegistries?.length ? { insecureRegistries: access.insecureRegistries } : {}),
      ...(access.caFile !== undefined ? { caFile: access.caFile } : {}),
    },
  });
}

/** Removes saved credentials; false when there were none. */
export function logoutRegistry(req: { readonly server?: string; readonly env: NodeJS.ProcessEnv; readonly signal: AbortSignal }): Promise<boolean> {
  return logout({ env: req.env, signal: req.signal, ...(req.server !== undefined ? { server: req.server } : {}) });
}
