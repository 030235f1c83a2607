/**
 * How the overlay2 snapshotter (overlay2-snapshotter.ts) mounts a snapshot: a committed one
 * read-only at this process's view of it, an active one writable at its merged/ (with the init
 * layer on top of its lowers when it is a container's root filesystem). A chain deeper than one
 * mount may stack reads its older layers from a flattened ancestor (lower-plan.ts, flatten.ts),
 * made once however many mounts ask for it at the same time. The mounts are MountActions for the
 * snapshotter's mount registry, which shares them and serialises mounts and unmounts of one path.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SnapshotInfo } from '../types.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { ensureFlat } from './flatten.js';
import type { FlattenDeps } from './flatten.js';
import { RuntimeDirs } from './init-dirs.js';
import type { Overlay2Layout } from './layout.js';
import { planLowers } from './lower-plan.js';
import type { ChainLayer } from './lower-plan.js';
import { mountOverlay, unmount } from './mount-exec.js';
import type { MountActions } from './mount-registry.js';
import { isMountPoint } from './mount-table-proc.js';
import { overlayOptionString, diffSafeOptions, VOLATILE_MARKER, volatileOptions } from './overlay-options.js';
import type { SnapshotRecords } from './snapshot-records.js';

/** The init layer's directories (see MountOptions.containerRoot) and its lowerdir entry. */
const INIT_LAYER_DIRS = ['dev', 'proc', 'sys'] as const;
const INIT_LOWER = '../.init';

export interface SnapshotMounterDeps extends FlattenDeps {
  readonly records: SnapshotRecords;
  /** Most lower directories one mount stacks (the kernel's limit, or less in tests). */
  readonly maxLowers: number;
}

export class SnapshotMounter {
  private readonly layout: Overlay2Layout;
  private readonly records: SnapshotRecords;
  private readonly flattening = new Map<string, Promise<void>>();
  private readonly runtimeDirs = new RuntimeDirs(INIT_LAYER_DIRS);
  private ready: Promise<void> | undefined;
  private extraOptions: readonly string[] | undefined;
  private writableOptions: readonly string[] | undefined;

  constructor(private readonly deps: SnapshotMounterDeps) {
    this.layout = deps.layout;
    this.records = deps.records;
  }

  /** Makes the directories every mount uses, once: `l/` (the short names), `.empty/` and the init layer. */
  ensureDirs(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.layout.linkDir, { recursive: true, mode: 0o700 });
      await mkdir(this.layout.emptyDir, { recursive: true, mode: 0o755 });
      for (const d of INIT_LAYER_DIRS) await mkdir(`${this.layout.initDir}/${d}`, { recursive: true, mode: 0o755 });
    })();
    return this.ready;
  }

  /** The read-only mount of the committed snapshot `info` at `target`. */
  viewActions(info: SnapshotInfo, target: string, signal: AbortSignal | undefined): MountActions {
    return {
      mount: async () => {
        const layers = await this.records.chainLayers(info);
        const lowers = await this.mountLowers(layers, true, signal);
        await mkdir(target, { recursive: true, mode: 0o755 });
        try {
          await mountOverlay({ cwd: this.layout.linkDir, target, options: overlayOptionString({ lowers, extra: this.mountExtras() }) });
        } catch (e) {
          await rmdir(target).catch(() => undefined);
          throw e;
        }
      },
      unmount: () => this.unmountAndTidy(target),
    };
  }

  /** The writable mount of the active snapshot `info` at `target` (its merged/). */
  activeActions(info: SnapshotInfo, target: string, containerRoot: boolean, signal: AbortSignal | undefined): MountActions {
    let layers: ChainLayer[] = [];
    return {
      mount: async () => {
        if (await isMountPoint(target)) {
          throw new SnapshotError(SnapshotErrorCode.inUse, `mount: snapshot ${info.id} is already mounted by another snapshotter`);
        }
        if (info.parent !== undefined) layers = await this.records.chainLayers(await this.records.stat(info.parent));
        await this.ensureDirs();
        const chain = await this.mountLowers(layers, false, signal, containerRoot ? 1 : 0);
        this.writableOptions ??= [...this.mountExtras(), ...volatileOptions()];
        // Only this process mounts its active snapshot, and its last unmount finished (the mount
        // registry serialises them), so the upper dir is intact: a remount may clear the marker.
        // Synchronous (two tiny directories, when there): this is on every RUN's critical path.
        rmSync(join(this.layout.work(info.id), VOLATILE_MARKER), { recursive: true, force: true });
        const options = overlayOptionString({
          lowers: containerRoot ? [INIT_LOWER, ...chain] : chain,
          upper: `../${info.id}/diff`,
          work: `../${info.id}/work`,
          extra: this.writableOptions,
        });
        await mountOverlay({ cwd: this.layout.linkDir, target, options });
      },
      unmount: async () => {
        await this.unmountAndTidy(target);
        // What runc would have left of the init layer's directories, had there been none.
        if (containerRoot) this.runtimeDirs.leave(this.layout.diff(info.id), info.parent, () => layers.map((l) => this.layout.diff(l.id)));
      },
    };
  }

  async unmountAndTidy(target: string): Promise<void> {
    await unmount(target);
    // View mount points (<id>/views/<owner>) are per process; an active snapshot's merged/ stays.
    if (dirname(target).endsWith('/views')) await rmdir(target).catch(() => undefined);
  }

  private mountExtras(): readonly string[] {
    this.extraOptions ??= diffSafeOptions();
    return this.extraOptions;
  }

  private async mountLowers(layers: readonly ChainLayer[], readOnly: boolean, signal: AbortSignal | undefined, reserved = 0): Promise<readonly string[]> {
    const plan = planLowers(layers, { maxLowers: Math.max(2, this.deps.maxLowers - reserved), readOnly });
    if (plan.flatten !== undefined) await this.flatten(plan.flatten, signal);
    return plan.lowers;
  }

  private flatten(id: string, signal: AbortSignal | undefined): Promise<void> {
    let p = this.flattening.get(id);
    if (!p) {
      p = ensureFlat(this.deps, id, signal).finally(() => this.flattening.delete(id));
      this.flattening.set(id, p);
    }
    return p;
  }
}
