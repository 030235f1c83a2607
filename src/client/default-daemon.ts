/**
 * The daemon a client uses when told none (no `--addr`, no TSBUILD_ADDR): tsbuildd on its default
 * socket, when one listens there — as the docker CLI uses dockerd — else none (the engine runs in
 * the client's process). Probing is one connect() to a unix socket: a missing file or a refused
 * connection answers at once, without loading gRPC; only a listening socket makes the caller dial
 * it. tsbuildd listens on the same path by default (src/control/addresses.ts); the path itself
 * (and TSBUILD_DEFAULT_SOCKET, for tests) is in default-socket.ts.
 */
import { connect } from 'node:net';
import { defaultSocketPath } from './default-socket.js';

export { DEFAULT_SOCKET_PATH, defaultSocketPath } from './default-socket.js';

/** How long a connect() to the default socket may take before it counts as no daemon. */
const PROBE_TIMEOUT_MS = 1000;

/** True when something accepts connections on the unix socket `path`. */
export function socketListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** `unix://PATH` of the default socket when a daemon listens on it; undefined otherwise. */
export async function probeDefaultDaemon(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const path = defaultSocketPath(env);
  return (await socketListening(path)) ? `unix://${path}` : undefined;
}
