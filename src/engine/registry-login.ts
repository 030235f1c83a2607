/**
 * `tsbuild login` / `logout`: credentials are checked against the registry, then saved in (or
 * removed from) the docker config directory the client names, or its credential helper — the
 * user's own store, as with docker, never the data root. Static engine operations: no data root.
 */
import { login, logout } from '../registry/login.js';
import type { CallOptions, LoginRequest, LoginResult, LogoutRequest, LogoutResult } from './types.js';

export async function registryLogin(req: LoginRequest, opts: CallOptions): Promise<LoginResult> {
  const access = req.registry ?? {};
  const res = await login({
    username: req.username,
    password: req.password,
    signal: opts.signal,
    ...(req.server !== undefined ? { server: req.server } : {}),
    ...(access.dockerConfigDir !== undefined ? { configDir: access.dockerConfigDir } : {}),
    client: {
      ...(access.insecureRegistries?.length ? { insecureRegistries: access.insecureRegistries } : {}),
      ...(access.caFile !== undefined ? { caFile: access.caFile } : {}),
    },
  });
  return { domain: res.domain, configPath: res.configPath, ...(res.helper !== undefined ? { helper: res.helper } : {}) };
}

export async function registryLogout(req: LogoutRequest, opts: CallOptions): Promise<LogoutResult> {
  const dir = req.registry?.dockerConfigDir;
  const removed = await logout({ signal: opts.signal, ...(req.server !== undefined ? { server: req.server } : {}), ...(dir !== undefined ? { configDir: dir } : {}) });
  return { removed };
}
