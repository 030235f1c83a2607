/**
 * The Info RPC: what a CI runner checks before it sends work: tsbuild's version, the runc that RUN
 * steps would use, the kernel, the data root, the features and limits in force, uptime, and the
 * daemon engine's own report (EngineFacts, from Engine.info at start: what `tsbuild info` shows).
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { arch, release } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { VERSION } from '../version.js';
import { defaultExporters } from '../exporter/index.js';
import type { tsbuild } from '../client/gen/control.js';
import type { EngineInfo } from '../client/types.js';
import type { DaemonOptions } from './types.js';

type InfoResponse = tsbuild.control.v1.InfoResponse.$Properties;

const run = promisify(execFile);

/** `runc --version`'s version ("1.1.5"), or "" when runc is missing or says something else. */
export async function runcVersion(): Promise<string> {
  try {
    const { stdout } = await run('runc', ['--version'], { timeout: 5000 });
    return /^runc version (\S+)/m.exec(stdout)?.[1] ?? '';
  } catch {
    return '';
  }
}

/** The OCI platform of this machine ("linux/amd64"). */
export function hostPlatform(): string {
  const a = arch();
  return `linux/${a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a}`;
}

/** Creates the data root when missing and returns its absolute path. */
export async function ensureDataRoot(root: string): Promise<string> {
  const abs = resolve(root);
  await mkdir(abs, { recursive: true, mode: 0o711 });
  return abs;
}

export interface InfoInputs {
  readonly options: DaemonOptions;
  /** The data root, absolute (ensureDataRoot). */
  readonly dataRoot: string;
  /** Addresses as bound (tcp port 0 resolved). */
  readonly addresses: readonly string[];
  /** Control RPCs that have handlers; the others answer UNIMPLEMENTED. */
  readonly rpcs: readonly string[];
  readonly auth: readonly string[];
  readonly startedMs: number;
  readonly runcVersion: string;
  /** The daemon engine's own report (Engine.info), taken at start. */
  readonly engine?: EngineInfo;
}

export function infoResponse(i: InfoInputs, now = Date.now()): InfoResponse {
  const o = i.options;
  return {
    version: VERSION,
    runcVersion: i.runcVersion,
    kernel: release(),
    platform: hostPlatform(),
    dataRoot: i.dataRoot,
    features: {
      rpcs: [...i.rpcs],
      outputs: [...defaultExporters().types(), 'registry'],
      networkModes: ['default', 'none', 'host'],
      // The kinds src/cache/remote/cache-spec.ts parses.
      cacheExports: ['registry', 'local', 'inline'],
      cacheImports: ['registry', 'local'],
      // What builds may ask for here (--allow-insecure-entitlement).
      entitlements: [...o.allowedEntitlements],
      contextTransfers: ['sync', 'tar', 'none'],
      auth: [...i.auth],
    },
    config: { maxParallelism: o.maxParallelism, gcKeepStorage: o.gcKeepStorage ?? 0, addresses: [...i.addresses] },
    limits: { maxMessageBytes: o.limits.maxMessageBytes, maxBuildsPerClient: o.limits.maxBuildsPerClient, maxContextBytes: o.limits.maxContextBytes },
    startedMs: i.startedMs,
    uptimeMs: Math.max(0, now - i.startedMs),
    pid: process.pid,
    ...(i.engine ? {
      engine: {
        runcPath: i.engine.runc.path ?? '', snapshotter: i.engine.snapshotter, outputs: [...i.engine.outputs], features: [...i.engine.features], platforms: [...i.engine.platforms],
      },
    } : {}),
  };
}
