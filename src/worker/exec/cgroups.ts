/**
 * Where a container's cgroups live. The spec gives runc a *relative* cgroupsPath (one unique name
 * per run), which runc's cgroupfs driver nests under the engine's own cgroup in every hierarchy, so
 * containers stay inside whatever limits the engine runs under. runc removes the cgroups when the
 * container is deleted; `removeCgroupLeftovers` is the safety net after a kill.
 */
import { readFileSync, rmdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TsbuildError } from '../../util/errors.js';
import { errnoCode } from './root-path.js';

interface Hierarchy {
  /** Where the hierarchy is mounted on the host. */
  readonly mountPoint: string;
  /** The engine's own cgroup in it, relative to the mount point. */
  readonly ownPath: string;
  readonly version: 1 | 2;
  readonly controllers: readonly string[];
}

/** Undoes the octal escapes /proc/self/mountinfo uses for spaces and the like. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Synchronous: two small /proc reads, on every RUN's critical path (`cgroupDirs`). */
function hierarchies(): Hierarchy[] {
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const own = readFileSync('/proc/self/cgroup', 'utf8');
  const mounts: Array<{ root: string; point: string; fstype: string; superOpts: string[] }> = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const f = pre.split(' ');
    const g = post.split(' ');
    const fstype = g[0] ?? '';
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({ root: unescapeMountField(f[3] ?? '/'), point: unescapeMountField(f[4] ?? ''), fstype, superOpts: (g[2] ?? '').split(',') });
  }
  const out: Hierarchy[] = [];
  for (const line of own.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    const controllers = (m[2] ?? '').split(',').filter((c) => c !== '');
    const path = m[3] ?? '/';
    const mount = controllers.length === 0
      ? mounts.find((x) => x.fstype === 'cgroup2')
      : mounts.find((x) => x.fstype === 'cgroup' && controllers.every((c) => x.superOpts.includes(c)));
    if (mount === undefined) continue;
    out.push({ mountPoint: mount.point, ownPath: relative(mount.root, path), version: controllers.length === 0 ? 2 : 1, controllers });
  }
  return out;
}

/** A unique, relative cgroupsPath for one run. */
export function cgroupPathFor(containerId: string): string {
  return containerId;
}

/** Host directories runc creates for `cgroupsPath` (relative), one per mounted hierarchy. */
export function cgroupDirs(cgroupsPath: string): string[] {
  return hierarchies().map((h) => join(h.mountPoint, h.ownPath, cgroupsPath));
}

/**
 * Whether the memory controller can limit swap (cgroup v1 needs swap accounting: memory.memsw.*).
 * Without it a swap limit makes runc fail, so only the memory limit is set.
 */
export async function canLimitSwap(): Promise<boolean> {
  const hs = hierarchies();
  const mem = hs.find((h) => h.controllers.includes('memory'));
  if (mem === undefined) return hs.some((h) => h.version === 2);
  try {
    await readFile(join(mem.mountPoint, mem.ownPath, 'memory.memsw.limit_in_bytes'), 'utf8');
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes what is left of a container's cgroups after a kill. Returns what it removed. A process
 * can still be in one: runc killed while creating the container leaves its `runc init` child in the
 * cgroup (it exits once it sees its parent gone, or waits on the exec fifo for ever), and runc keeps
 * no state of it yet, so `runc delete` cannot reach it. Those processes are killed here.
 */
export async function removeCgroupLeftovers(cgroupsPath: string): Promise<string[]> {
  return removeCgroupDirs(cgroupDirs(cgroupsPath));
}

/** How long `removeCgroupDirs` waits for the killed processes of a busy cgroup to leave it. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Removes the given cgroup directories (`cgroupDirs` of a run) where they still exist. Returns what
 * it removed. The first pass is synchronous: after every RUN, on its critical path, this is 11
 * rmdirs on cgroup v1 that all find nothing (runc removed them) — microseconds each, where 11
 * thread-pool trips one after another waited behind the pool's other work (docs/benchmarks.md,
 * s14-run). A cgroup that still holds processes (EBUSY) is the run's own: they are SIGKILLed and
 * the removal retried until they are gone.
 */
export async function removeCgroupDirs(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  const busy: string[] = [];
  for (const dir of dirs) {
    const r = tryRmdir(dir);
    if (r === 'removed') removed.push(dir);
    else if (r === 'busy') busy.push(dir);
  }
  if (busy.length === 0) return removed;
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (const dir of busy) {
    for (;;) {
      killMembers(dir);
      await new Promise((r) => setTimeout(r, 10));
      const r = tryRmdir(dir);
      if (r === 'removed') removed.push(dir);
      if (r !== 'busy') break;
      if (Date.now() > deadline) {
        throw new TsbuildError('CGROUP_BUSY', `cgroup ${dir} still holds processes ${readMembers(dir).join(', ') || '(none listed)'} ${BUSY_TIMEOUT_MS} ms after they were killed`);
      }
    }
  }
  return removed;
}

function tryRmdir(dir: string): 'removed' | 'gone' | 'busy' {
  try {
    rmdirSync(dir);
    return 'removed';
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return 'gone';
    if (code === 'EBUSY') return 'busy';
    throw e;
  }
}

function readMembers(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
}

function killMembers(dir: string): void {
  for (const pid of readMembers(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}
