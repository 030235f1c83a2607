/**
 * The daemon's unix sockets. Before binding: the parent directory is created, and a socket file
 * left by a daemon that died (SIGKILL, power loss) is removed — but only when nothing answers on
 * it: a live daemon on the same path is an error, and so is a path that is not a socket. After
 * binding: mode 0660 and the configured group, so membership in that group is what lets a user
 * build (as with docker's socket).
 */
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { TsbuildError, UsageError } from '../util/errors.js';

export const SOCKET_MODE = 0o660;
/** The group that owns the socket when none is configured and it exists. */
export const DEFAULT_SOCKET_GROUP = 'tsbuild';
const PROBE_TIMEOUT_MS = 2000;

/** True when something accepts connections on the socket; false when it refuses them (stale). */
function probe(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(true); // something holds it but does not answer: do not take it away
    }, PROBE_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(true);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(false);
      else reject(new TsbuildError('SOCKET_PROBE_FAILED', `cannot check whether a daemon listens on unix://${path}: ${e.code ?? e.message}`));
    });
  });
}

/** Makes `path` ready to bind: parent directory present, stale socket removed. */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return;
  if (!st.isSocket()) throw new TsbuildError('SOCKET_PATH_NOT_SOCKET', `${path} exists and is not a socket; refusing to replace it`);
  if (await probe(path)) throw new TsbuildError('DAEMON_ALREADY_RUNNING', `another daemon is listening on unix://${path}; stop it first or choose another --addr`);
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/** Restricts a freshly bound socket to its owner and `gid`. */
export async function secureSocket(path: string, gid: number): Promise<void> {
  await chown(path, -1, gid);
  await chmod(path, SOCKET_MODE);
}

/** Removes a socket file this daemon bound (nothing if it is gone or no longer a socket). */
export async function removeSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSocket()) await unlink(path).catch(() => undefined);
}

/** The gid of a group name from /etc/group, or undefined. */
async function groupId(name: string): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/**
 * The socket group: a numeric gid or a group name (`--socket-group`); by default the `tsbuild`
 * group when it exists, else the daemon's own group.
 */
export async function resolveSocketGroup(spec: string | undefined): Promise<number> {
  if (spec !== undefined) {
    if (/^\d+$/.test(spec)) return Number(spec);
    const gid = await groupId(spec);
    if (gid === undefined) throw new UsageError(`invalid --socket-group "${spec}": no such group in /etc/group`);
    return gid;
  }
  return (await groupId(DEFAULT_SOCKET_GROUP)) ?? process.getgid?.() ?? 0;
}
