/**
 * `Engine.info()`: what a client needs to know about the engine it talks to before it sends work —
 * version, data root, kernel, runc, platforms and what it supports. Cheap: one `runc --version` and
 * the emulator report (probed only when binfmt_misc changed since the last one).
 */
import { execFile } from 'node:child_process';
import { release } from 'node:os';
import { promisify } from 'node:util';
import { formatPlatform, hostPlatform } from '../llb/platform.js';
import { nativeSys } from '../util/native-sys.js';
import { VERSION } from '../version.js';
import { findOnPath } from './preflight.js';
import type { CallOptions, EngineInfo } from './types.js';
import type { Emulators } from '../worker/platforms/emulators.js';

const run = promisify(execFile);

/** Build features every engine of this version has (names are stable; clients may test for them). */
const FEATURES = [
  'cache-export:inline', 'cache-export:local', 'cache-export:registry', 'cache-import:local', 'cache-import:registry',
  'network:host', 'network:none', 'secrets', 'ssh', 'push', 'pull',
] as const;

async function runcVersion(path: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { signal });
    return /^runc version (\S+)/m.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

export async function engineInfo(root: string, outputs: readonly string[], emulators: Emulators, gcKeepStorage: number, opts: CallOptions): Promise<EngineInfo> {
  const path = await findOnPath('runc');
  const version = path === undefined ? undefined : await runcVersion(path, opts.signal);
  return {
    version: VERSION,
    root,
    kernel: release(),
    runc: { ...(path !== undefined ? { path } : {}), ...(version !== undefined ? { version } : {}) },
    platform: formatPlatform(hostPlatform()),
    platforms: await emulators.runnable(opts.signal),
    snapshotter: 'overlay2',
    outputs: [...outputs],
    // 'native-sys': mounts and umounts without a child process (src/util/native-sys.ts).
    features: [...FEATURES, ...(nativeSys() !== undefined ? ['native-sys'] : [])],
    gcKeepStorage,
  };
}
