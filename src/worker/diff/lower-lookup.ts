/**
 * What the lower layers show at a path of an overlay upper dir, resolved the way overlayfs' own
 * lookup does: the parents' `diff/` dirs are searched nearest first and the first layer that has
 * the name decides. A whiteout or other non-directory there means "no lower directory" and hides
 * the name in older layers; an opaque directory is the last layer its contents come from.
 *
 * Each upper directory of the walk gets one `LowerLookup`; its children are looked up in the stack
 * of lower directories merged at its path. That stack is only built when a child directory needs
 * it, so a leaf directory costs one `lstat` per layer up to the nearest that has it, and a new
 * directory's subtree costs nothing.
 */
import { lstatSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { fsPath, toBytePath } from '../snapshot/byte-path.js';
import { isOpaqueDir } from './whiteout.js';

/** Byte paths of the lower directories merged at one path, nearest first. */
type LowerStack = readonly string[];

/** The directory the lower layers show at a path: the one in the nearest layer that has the name. */
export interface LowerDir {
  /** Byte path inside one parent's `diff/`. */
  readonly path: string;
  readonly stat: Stats;
}

/** The lower side of one directory of the walk: its nearest lower directory, and its children's. */
export class LowerLookup {
  /** No lower directory here, nor below (new directories, opaque ones, base layers). */
  static readonly none = new LowerLookup({ dir: undefined, name: '', from: [], at: -1, stack: [] });

  /** The nearest lower directory at this path; undefined when there is none. */
  readonly dir: LowerDir | undefined;
  private readonly name: string;
  /** The parent's stack, and the index in it where `dir` was found: older layers follow it. */
  private readonly from: LowerStack;
  private readonly at: number;
  private stack: LowerStack | undefined;

  private constructor(init: { dir: LowerDir | undefined; name: string; from: LowerStack; at: number; stack?: LowerStack }) {
    this.dir = init.dir;
    this.name = init.name;
    this.from = init.from;
    this.at = init.at;
    this.stack = init.stack;
  }

  /** The layer root: the parents' `diff/` dirs (plain paths, nearest first). */
  static root(lowerDiffDirs: readonly string[]): LowerLookup {
    const stack: string[] = [];
    for (const dir of lowerDiffDirs) {
      const p = toBytePath(dir);
      stack.push(p);
      if (isOpaqueDir(p)) break;
    }
    return stack.length === 0 ? LowerLookup.none : new LowerLookup({ dir: undefined, name: '', from: [], at: -1, stack });
  }

  /** The lower side of child `name` (a byte string) of this directory. */
  child(name: string): LowerLookup {
    const stack = this.mergedStack();
    for (let i = 0; i < stack.length; i++) {
      const path = `${stack[i] as string}/${name}`;
      const st = lstatSync(fsPath(path), { throwIfNoEntry: false });
      if (st === undefined) continue;
      // The first layer with the name decides: a whiteout (char 0/0) or a file hides older layers.
      if (!st.isDirectory()) return LowerLookup.none;
      return new LowerLookup({ dir: { path, stat: st }, name, from: stack, at: i });
    }
    return LowerLookup.none;
  }

  /** `dir`, then the older layers' directories of the same name, up to a non-directory or an opaque one. */
  private mergedStack(): LowerStack {
    if (this.stack !== undefined) return this.stack;
    const out: string[] = [];
    if (this.dir !== undefined) {
      out.push(this.dir.path);
      for (let i = this.at + 1; i < this.from.length && !isOpaqueDir(out[out.length - 1] as string); i++) {
        const path = `${this.from[i] as string}/${this.name}`;
        const st = lstatSync(fsPath(path), { throwIfNoEntry: false });
        if (st === undefined) continue;
        if (!st.isDirectory()) break;
        out.push(path);
      }
    }
    this.stack = out;
    return out;
  }
}
