/**
 * Mountpoint stubs. runc needs every mount target to exist in the rootfs and would create missing
 * ones itself, leaving empty files and directories in the step's layer. We create them first,
 * remember exactly what we created, and remove it after the run (as BuildKit's MountStubsCleaner
 * does), restoring the parent directories' timestamps so reproducible layers stay reproducible.
 * Except, as Docker: the directories made for the runtime's own mounts (/proc, /dev, /sys, and /etc
 * for the hosts, resolv.conf and hostname binds) stay — a RUN on `FROM scratch` leaves them in its
 * layer with Docker 20.10's BuildKit (measured; its cleaner only knows the RUN's own mounts).
 * The calls are synchronous: a few dozen lstats on the step's critical path, each of which would
 * otherwise wait for a thread-pool slot and an event-loop turn behind the build's other file I/O
 * (the eager tar of the layer before).
 */
import { lstatSync, mkdirSync, readdirSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TsbuildError } from '../../util/errors.js';
import { errnoCode, hostPathInRootfsSync } from './root-path.js';

export interface StubTarget {
  /** Absolute path in the container. */
  readonly path: string;
  /** What the mount needs at its target: a file for file binds and sockets, else a directory. */
  readonly kind: 'file' | 'dir';
  /** The directories made for it (the target itself when a directory, and missing parents) stay. */
  readonly keepDirs?: boolean;
}

/** Nanosecond timestamps, so that "unchanged" is exact. */
interface Times {
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
}

interface CreatedStub {
  readonly host: string;
  readonly kind: 'file' | 'dir';
}

interface ParentRecord {
  /** Timestamps before we added the first stub to it. */
  readonly before: Times;
  /** mtime right after our last addition: if it is unchanged after the run, nothing else wrote there. */
  afterCreate: bigint;
}

function seconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}

function times(path: string): Times | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return { atimeNs: st.atimeNs, mtimeNs: st.mtimeNs };
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    if (errnoCode(e) === 'ENOTDIR') {
      throw new TsbuildError('INVALID_MOUNT', `cannot create mountpoint ${path}: a parent is not a directory`);
    }
    throw e;
  }
}

/** What one run created in the rootfs for its mounts. `remove()` undoes it; call it once. */
export class MountStubs {
  private readonly rootfs: string;
  private readonly created: CreatedStub[] = [];
  private readonly parents = new Map<string, ParentRecord>();

  private constructor(rootfs: string) {
    this.rootfs = resolve(rootfs);
  }

  /**
   * Creates the missing targets (and missing parents) under `rootfs`. Targets must be given in
   * mount order; a target nested under an earlier target lies inside that mount, not in the rootfs,
   * and is left to runc. On failure, what was created so far is removed before the error propagates.
   */
  static async create(rootfs: string, targets: readonly StubTarget[]): Promise<MountStubs> {
    const stubs = new MountStubs(rootfs);
    try {
      const seen: string[] = [];
      for (const t of targets) {
        const inside = seen.some((m) => m === '/' || t.path.startsWith(`${m}/`));
        seen.push(t.path);
        if (!inside) stubs.ensure(t);
      }
    } catch (e) {
      await stubs.remove();
      throw e;
    }
    return stubs;
  }

  /** Host paths created, in creation order (for tests and diagnostics). */
  get createdPaths(): readonly string[] {
    return this.created.map((c) => c.host);
  }

  private ensure(t: StubTarget): void {
    const host = hostPathInRootfsSync(this.rootfs, t.path);
    const missing: string[] = [];
    let cur = host;
    while (cur !== this.rootfs && !exists(cur)) {
      missing.unshift(cur);
      cur = dirname(cur);
    }
    for (const [i, p] of missing.entries()) {
      const kind = i === missing.length - 1 ? t.kind : 'dir';
      const parent = dirname(p);
      if (kind === 'dir' && t.keepDirs === true) {
        // Kept: the layer's, as if the process had made it. Nothing to undo, and the parent's
        // times after it are the ones a later stub's removal goes back to.
        mkdirSync(p, { mode: 0o755, recursive: true });
        const rec = this.parents.get(parent);
        const after = times(parent);
        if (rec !== undefined && after !== undefined) this.parents.set(parent, { before: after, afterCreate: after.mtimeNs });
        continue;
      }
      if (!this.parents.has(parent)) {
        const before = times(parent);
        if (before !== undefined) this.parents.set(parent, { before, afterCreate: before.mtimeNs });
      }
      try {
        if (kind === 'dir') mkdirSync(p, { mode: 0o755 });
        else writeFileSync(p, '', { mode: 0o644, flag: 'wx' });
      } catch (e) {
        // Someone else made it meanwhile: then it is theirs to remove, not ours.
        if (errnoCode(e) === 'EEXIST') continue;
        throw e;
      }
      this.created.push({ host: p, kind });
      const rec = this.parents.get(parent);
      const after = times(parent);
      if (rec !== undefined && after !== undefined) rec.afterCreate = after.mtimeNs;
    }
  }

  /**
   * Removes the stubs (deepest first) that are still empty; a directory the process wrote into
   * stays. Never throws for a stub that is already gone.
   */
  async remove(): Promise<void> {
    for (const c of [...this.created].reverse()) {
      const parent = dirname(c.host);
      const rec = this.parents.get(parent);
      const beforeRemoval = times(parent);
      let removed = false;
      try {
        const st = lstatSync(c.host);
        if (c.kind === 'dir' && st.isDirectory() && readdirSync(c.host).length === 0) {
          rmdirSync(c.host);
          removed = true;
        } else if (c.kind === 'file' && st.isFile() && st.size === 0) {
          unlinkSync(c.host);
          removed = true;
        }
      } catch (e) {
        const code = errnoCode(e);
        if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      }
      if (!removed || beforeRemoval === undefined) continue;
      // Untouched since we created the stub: back to the pre-run times. Otherwise the process
      // changed the directory too; keep its times but hide our own removal (BuildKit's rule).
      const untouched = rec !== undefined && beforeRemoval.mtimeNs === rec.afterCreate;
      const t = untouched && rec !== undefined ? rec.before : beforeRemoval;
      // utimes takes float seconds: restored to about a microsecond, not to the nanosecond.
      utimesSync(parent, seconds(t.atimeNs), seconds(t.mtimeNs));
    }
    this.created.length = 0;
  }
}
