/**
 * Turns a RUN's mounts (already resolved to host paths) into runtime-spec mounts, preparing what
 * each needs on the host: throwaway overlay dirs for `rw` binds, the secret tmpfs, SSH agent
 * proxies. Everything lives in the run's bundle; `release()` undoes the host-side mounts.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { assertNever, UserInputError } from '../../util/errors.js';
import { ExecErrorCode } from './errors.js';
import type { StubTarget } from './mount-stubs.js';
import type { SpecMount } from './runtime-spec.js';
import { writeSecretFiles } from './secret-files.js';
import type { SecretFiles } from './secret-files.js';
import { startSshProxy } from './ssh-proxy.js';
import type { SshProxy } from './ssh-proxy.js';
import type { ExecMount, SecretExecMount } from './types.js';
import { errnoCode } from './root-path.js';

export interface PreparedMounts {
  readonly specMounts: readonly SpecMount[];
  /** What each spec mount needs at its target, in the same order. */
  readonly stubs: readonly StubTarget[];
  /** Target of the first ssh mount, for SSH_AUTH_SOCK. */
  readonly sshAuthSock: string | undefined;
  /** The secret tmpfs, when there is one: anything secret (config.json with secret env) goes there. */
  readonly secretDir: string | undefined;
  release(): Promise<void>;
}

export interface PrepareMountsOptions {
  /** The run's private directory (ROOT/tmp/exec-…). */
  readonly bundle: string;
  readonly mounts: readonly ExecMount[];
  /** Mount the secret tmpfs even without secret files (the env holds secrets). */
  readonly needSecretDir: boolean;
}

function invalid(message: string): UserInputError {
  return new UserInputError(ExecErrorCode.invalidMount, message);
}

/** Normalizes a container path; targets must be absolute and may not be the root itself. */
export function checkTarget(target: string): string {
  if (!posix.isAbsolute(target)) throw invalid(`mount target ${JSON.stringify(target)} must be an absolute path`);
  const t = posix.normalize(target).replace(/\/+$/, '');
  if (t === '') throw invalid('a mount cannot replace the root filesystem (target "/")');
  return t;
}

async function sourceKind(source: string): Promise<'file' | 'dir'> {
  try {
    return (await stat(source)).isDirectory() ? 'dir' : 'file';
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw invalid(`bind mount source ${source} does not exist`);
    throw e;
  }
}

/** overlayfs splits its options at `,` and lower dirs at `:`; such paths cannot be passed safely. */
function overlayPath(p: string): string {
  if (/[,:\\]/.test(p)) throw invalid(`cannot mount ${p} writable: the path contains ',', ':' or '\\'`);
  return p;
}

export async function prepareMounts(opts: PrepareMountsOptions): Promise<PreparedMounts> {
  const specMounts: SpecMount[] = [];
  const stubs: StubTarget[] = [];
  const proxies: SshProxy[] = [];
  let secretFiles: SecretFiles | undefined;
  let sshAuthSock: string | undefined;
  const release = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const p of proxies.splice(0)) await p.close().catch((e: unknown) => errors.push(e));
    if (secretFiles !== undefined) await secretFiles.release().catch((e: unknown) => errors.push(e));
    secretFiles = undefined;
    if (errors.length > 0) throw errors[0];
  };

  try {
    const secrets: Array<{ index: number; m: SecretExecMount }> = [];
    for (const [i, m] of opts.mounts.entries()) {
      const target = checkTarget(m.target);
      switch (m.kind) {
        case 'bind': {
          const kind = await sourceKind(m.source);
          const writes = m.writes ?? 'deny';
          switch (writes) {
            case 'deny':
              specMounts.push({ destination: target, type: 'bind', source: m.source, options: ['rbind', 'ro'] });
              break;
            case 'persist':
              specMounts.push({ destination: target, type: 'bind', source: m.source, options: ['rbind'] });
              break;
            case 'discard': {
              const dir = join(opts.bundle, `rw-${i}`);
              await mkdir(dir, { mode: 0o700 });
              if (kind === 'file') {
                // overlayfs cannot stack on a single file: a private copy does the same job.
                const copy = join(dir, basename(m.source));
                await copyFile(m.source, copy);
                specMounts.push({ destination: target, type: 'bind', source: copy, options: ['rbind'] });
              } else {
                await mkdir(join(dir, 'upper'));
                await mkdir(join(dir, 'work'));
                specMounts.push({
                  destination: target,
                  type: 'overlay',
                  source: 'overlay',
                  options: [`lowerdir=${overlayPath(m.source)}`, `upperdir=${overlayPath(join(dir, 'upper'))}`, `workdir=${overlayPath(join(dir, 'work'))}`],
                });
              }
              break;
            }
            default:
              return assertNever(writes, 'bind writes');
          }
          stubs.push({ path: target, kind });
          break;
        }
        case 'tmpfs': {
          const size = m.sizeBytes === undefined ? [] : [`size=${m.sizeBytes}`];
          if (m.sizeBytes !== undefined && (!Number.isInteger(m.sizeBytes) || m.sizeBytes <= 0)) {
            throw invalid(`tmpfs size must be a positive number of bytes, got ${m.sizeBytes}`);
          }
          specMounts.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', ...size] });
          stubs.push({ path: target, kind: 'dir' });
          break;
        }
        case 'secret':
          secrets.push({ index: specMounts.length, m });
          // Placeholder, replaced once the secret tmpfs holds the file.
          specMounts.push({ destination: target, type: 'bind', source: '', options: ['rbind', 'ro'] });
          stubs.push({ path: target, kind: 'file' });
          break;
        case 'ssh': {
          const proxy = await startSshProxy({ agentSocket: m.socketPath, listenPath: join(opts.bundle, `ssh-${i}.sock`), uid: m.uid, gid: m.gid, mode: m.mode });
          proxies.push(proxy);
          specMounts.push({ destination: target, type: 'bind', source: proxy.path, options: ['rbind'] });
          stubs.push({ path: target, kind: 'file' });
          sshAuthSock ??= target;
          break;
        }
        default:
          return assertNever(m, 'mount');
      }
    }
    if (secrets.length > 0 || opts.needSecretDir) {
      secretFiles = await writeSecretFiles(join(opts.bundle, 'secrets'), secrets.map((s) => s.m));
      for (const [k, s] of secrets.entries()) {
        const placeholder = specMounts[s.index] as SpecMount;
        specMounts[s.index] = { ...placeholder, source: secretFiles.paths[k] as string };
      }
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { specMounts, stubs, sshAuthSock, secretDir: secretFiles?.dir, release };
}
