/**
 * Listen addresses as `tsbuildd --addr` takes them (docker's spelling): `unix:///run/tsbuild/tsbuildd.sock`
 * (an absolute path) and `tcp://HOST:PORT` (`tcp://[::1]:8443`; port 0 picks a free one). Also their
 * form for @grpc/grpc-js's bindAsync.
 */
import { isAbsolute, normalize } from 'node:path';
import { UsageError } from '../util/errors.js';
import { DEFAULT_SOCKET_PATH } from '../client/default-socket.js';
import type { ListenAddress } from './types.js';

/** Where tsbuildd listens without --addr: the socket clients probe when given no address. */
export const DEFAULT_ADDRESS = `unix://${DEFAULT_SOCKET_PATH}`;

export function parseListenAddress(value: string): ListenAddress {
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (!isAbsolute(path)) throw new UsageError(`invalid --addr "${value}": a unix socket needs an absolute path (unix:///run/tsbuild/tsbuildd.sock)`);
    // The kernel limits sun_path to 108 bytes, terminator included.
    if (Buffer.byteLength(path) > 107) throw new UsageError(`invalid --addr "${value}": socket paths are limited to 107 bytes`);
    return { kind: 'unix', path: normalize(path) };
  }
  if (value.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(value);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) throw new UsageError(`invalid --addr "${value}": expected tcp://HOST:PORT (tcp://0.0.0.0:1234, tcp://[::1]:1234)`);
    return { kind: 'tcp', host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
  }
  throw new UsageError(`invalid --addr "${value}": expected unix:///PATH or tcp://HOST:PORT`);
}

export function formatListenAddress(a: ListenAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** The target @grpc/grpc-js binds: `unix:///path`, `host:port`, `[::1]:port`. */
export function grpcBindTarget(a: ListenAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
