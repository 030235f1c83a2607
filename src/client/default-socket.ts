/**
 * Where the default daemon's socket is: the path a client probes when given no address
 * (default-daemon.ts) and the launcher's guess of how a command will run (cmd/launcher). Its own
 * module, without node:net, because the launcher reads it before anything else loads.
 *
 * TSBUILD_DEFAULT_SOCKET moves the default socket, for tests only (a daemon under a temporary
 * directory stands in for the real one, and test runs never reach a daemon on the real path
 * unless they ask).
 */

export const DEFAULT_SOCKET_PATH = '/run/tsbuild/tsbuildd.sock';

/** The default socket path: TSBUILD_DEFAULT_SOCKET (tests) or /run/tsbuild/tsbuildd.sock. */
export function defaultSocketPath(env: NodeJS.ProcessEnv): string {
  return env['TSBUILD_DEFAULT_SOCKET'] || DEFAULT_SOCKET_PATH;
}
