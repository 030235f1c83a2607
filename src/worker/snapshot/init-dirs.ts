/**
 * The runtime's mount points a container's run leaves in its layer. A RUN's rootfs has an init
 * layer under its upper dir (MountOptions.containerRoot) so that `/dev`, `/proc` and `/sys` are
 * real directories whatever the image has there; nothing of it reaches the layer. But where the
 * image has no such entry at all (`FROM scratch`), Docker's runtime creates the directories in the
 * rootfs and they stay in the step's layer (Docker 20.10's BuildKit, measured; BuildKit's stub
 * cleaner only knows the RUN's own mounts). So after the run, each one the image lacks is made in
 * the upper dir, as Docker leaves it (compat case from-scratch).
 */
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isOverlayWhiteout } from '../diff/whiteout.js';

/** What the nearest layer that has `name` at its root shows: present, or hidden by a whiteout. */
function inImage(lowerDiffs: readonly string[], name: string): boolean {
  for (const d of lowerDiffs) {
    const st = lstatSync(join(d, name), { throwIfNoEntry: false });
    if (st === undefined) continue;
    // A whiteout hides the name in the older layers.
    return !isOverlayWhiteout(st);
  }
  return false;
}

/**
 * The `names` no layer of the image (`lowerDiffs`, nearest first) has at its root. One lstat per
 * layer up to the first that has the name (the base, for an image that has them).
 */
function missingFromImage(lowerDiffs: readonly string[], names: readonly string[]): string[] {
  return names.filter((n) => !inImage(lowerDiffs, n));
}

/** Past this many parents remembered, the memory starts over. */
const MAX_REMEMBERED = 10_000;

/** The init layer's directories, left in a run's layer where its image has none. */
export class RuntimeDirs {
  /** Per parent snapshot ('' for none): the names its image lacks (a committed chain never changes). */
  readonly #missing = new Map<string, readonly string[]>();

  constructor(private readonly names: readonly string[]) {}

  /**
   * After a container's run on `parent`: makes each name its image lacks (root-owned, 0755) in
   * `upperDir`, unless the step made an entry there. `lowerDiffs` (nearest first) is read only the
   * first time a parent is seen.
   */
  leave(upperDir: string, parent: string | undefined, lowerDiffs: () => readonly string[]): void {
    const key = parent ?? '';
    let missing = this.#missing.get(key);
    if (missing === undefined) {
      missing = missingFromImage(lowerDiffs(), this.names);
      if (this.#missing.size >= MAX_REMEMBERED) this.#missing.clear();
      this.#missing.set(key, missing);
    }
    for (const name of missing) {
      const path = join(upperDir, name);
      if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) continue;
      mkdirSync(path);
      chmodSync(path, 0o755);
    }
  }
}
