/**
 * Forwards an SSH agent into a RUN: a unix socket in the run's bundle, owned and permissioned as
 * the mount asks (uid/gid/mode, like BuildKit), whose connections are piped to the real agent.
 * Binding the agent's own socket would not do: its owner and mode are the host user's.
 */
import { chmod, chown } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { TsbuildError } from '../../util/errors.js';

export interface SshProxyOptions {
  /** Host path of the agent's socket (SSH_AUTH_SOCK). */
  readonly agentSocket: string;
  /** Where to listen (inside the run's bundle). */
  readonly listenPath: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

export interface SshProxy {
  readonly path: string;
  close(): Promise<void>;
}

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export async function startSshProxy(opts: SshProxyOptions): Promise<SshProxy> {
  if (Buffer.byteLength(opts.listenPath) > MAX_SOCKET_PATH) {
    throw new TsbuildError('SSH_PROXY_PATH', `cannot forward the SSH agent: socket path ${opts.listenPath} is longer than ${MAX_SOCKET_PATH} bytes (use a shorter --root)`);
  }
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(opts.agentSocket);
    open.add(client);
    open.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const close = (): Promise<void> => new Promise((resolve) => {
    for (const s of open) s.destroy();
    server.close(() => resolve());
  });
  try {
    await chown(opts.listenPath, opts.uid, opts.gid);
    await chmod(opts.listenPath, opts.mode);
  } catch (e) {
    await close();
    throw e;
  }
  return { path: opts.listenPath, close };
}
