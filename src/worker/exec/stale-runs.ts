/**
 * Runs left behind by an engine that died (SIGKILL, power loss): their runc containers, cgroups,
 * slirp4netns processes, host mounts (secret tmpfs, network namespace file) and bundles. Each
 * bundle records its owner (pid + process start time, so a reused pid is not mistaken for the
 * owner); a new engine removes only runs whose owner is gone, which keeps two engines on one data
 * root safe. Mountpoint stubs in a dead run's rootfs cannot be undone here: that snapshot's writes
 * are incomplete anyway and the snapshotter discards it.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';
import { removeCgroupLeftovers } from './cgroups.js';
import { isMountPoint, mountPointsUnder } from '../snapshot/mount-table-proc.js';
import { processStartTime } from '../snapshot/owner.js';
import { errnoCode } from './root-path.js';
import { stopStaleSandboxNetwork } from './sandbox-network.js';
import type { Runc } from './runc.js';

interface Owner {
  readonly pid: number;
  readonly startTime: string;
  readonly id: string;
}

/** Synchronous (one small write, on every RUN's critical path). */
export function writeOwner(bundle: string, id: string): void {
  const owner: Owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? '', id };
  writeFileSync(join(bundle, 'owner.json'), JSON.stringify(owner), { mode: 0o600 });
}

async function readOwner(bundle: string): Promise<Owner | undefined> {
  try {
    return JSON.parse(await readFile(join(bundle, 'owner.json'), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

function ownerAlive(o: Owner): boolean {
  return processStartTime(o.pid) === o.startTime;
}

/** Unmounts `path`; a mount that another process removed meanwhile (the run's own cleanup) is fine. */
async function umount(path: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('umount', [path], { timeout: 30_000 }, (err, _o, stderr) => (err ? reject(new Error(`umount ${path}: ${stderr.trim() || err.message}`)) : resolve()));
    });
  } catch (e) {
    if (await isMountPoint(path)) throw e;
  }
}

export interface StaleCleanupOptions {
  /** ROOT/tmp. */
  readonly tmpDir: string;
  readonly runc: Runc;
  readonly signal: AbortSignal;
  /** A bundle without an owner file is another engine's run being set up unless it is this old. */
  readonly orphanAgeMs?: number;
}

export interface StaleCleanupReport {
  readonly bundles: readonly string[];
  readonly containers: readonly string[];
}

/** Removes runs whose engine process is gone. */
export async function cleanupStaleRuns(opts: StaleCleanupOptions): Promise<StaleCleanupReport> {
  const bundles: string[] = [];
  const containers: string[] = [];
  let names: string[] = [];
  try {
    names = (await readdir(opts.tmpDir)).filter((n) => n.startsWith('exec-'));
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  for (const n of names) {
    throwIfAborted(opts.signal);
    const bundle = join(opts.tmpDir, n);
    const owner = await readOwner(bundle);
    if (owner === undefined) {
      // No owner file yet, or no bundle any more: a live engine removes its own when its run ends,
      // and may do so between the listing and here (two engines on one data root).
      const st = await stat(bundle).catch((e: unknown) => (errnoCode(e) === 'ENOENT' ? undefined : Promise.reject(e)));
      if (st === undefined || Date.now() - st.mtimeMs < (opts.orphanAgeMs ?? 60_000)) continue;
    } else {
      if (ownerAlive(owner)) continue;
      await opts.runc.forceDelete(owner.id);
      await removeCgroupLeftovers(owner.id);
      containers.push(owner.id);
    }
    // Before the mounts: the sandbox network's namespace file is one of them.
    await stopStaleSandboxNetwork(bundle);
    for (const m of await mountPointsUnder(bundle)) await umount(m);
    await rm(bundle, { recursive: true, force: true });
    bundles.push(bundle);
  }
  // Containers whose bundle is already gone (the engine died while removing it).
  for (const c of await opts.runc.list(opts.signal)) {
    if (!c.bundle.startsWith(`${opts.tmpDir}/`) || containers.includes(c.id)) continue;
    const exists = await stat(c.bundle).then(() => true, () => false);
    if (exists) continue;
    await opts.runc.forceDelete(c.id);
    await removeCgroupLeftovers(c.id);
    containers.push(c.id);
  }
  return { bundles, containers };
}
