/**
 * The copier's destination side (copy-tree.ts): what it knows about a destination directory once it
 * exists — whether the copy made it (then nothing else is in it), and the owner the kernel gives
 * new entries there — and the two ways it prepares a path: making a directory (merging into one
 * that is there) and clearing the way for a non-directory. A directory and a non-directory replace
 * each other only with `alwaysReplace`; paths are looked at with lstat, so a link in the
 * destination is never followed.
 */
import { lstatSync, type Stats } from 'node:fs';
import { lstat, mkdir, rm, unlink } from 'node:fs/promises';
import { posix } from 'node:path';
import type { SourceLocation } from '../../util/errors.js';
import { fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import type { CreatedState } from './metadata.js';

/** What the copier knows about a destination directory once it exists. */
export interface DirState {
  /** The copy created it: nothing else is in it but what this copy writes (no lookup needed). */
  readonly created: boolean;
  /** Owner new entries in it get (setgid directories pass their group on); undefined: unknown. */
  readonly childOwner: { readonly uid: number; readonly gid: number } | undefined;
}

/** A destination directory that is created on first use (for excluded-but-descended directories). */
export interface DestDir {
  ensure(): Promise<DirState>;
  /** Its state once it exists (what ensure() resolves to), so entries need not wait for it. */
  readonly known: DirState | undefined;
}

/** A directory made by makeDir: its state, and what it got at creation (undefined: it was there). */
export interface MadeDir {
  readonly state: DirState;
  readonly created: CreatedState | undefined;
}

const UNKNOWN_DIR: DirState = { created: false, childOwner: undefined };
/** A destination directory that exists and is not known to be the copy's own. */
export const READY: DestDir = { ensure: async () => UNKNOWN_DIR, known: UNKNOWN_DIR };
const S_ISGID = 0o2000;

export interface CopyDestinationOptions {
  readonly destRoot: string;
  /** Replace destination entries of another type instead of failing. */
  readonly alwaysReplace: boolean;
  readonly location: SourceLocation | undefined;
}

export class CopyDestination {
  private readonly euid = process.geteuid?.() ?? 0;
  private readonly egid = process.getegid?.() ?? 0;

  constructor(private readonly opts: CopyDestinationOptions) {}

  /** `dst` as the user sees it: a path in the destination root. */
  display(dst: string): string {
    return '/' + posix.relative(this.opts.destRoot, dst);
  }

  /** Makes `dst` a directory: whether it was created (rather than merged into), and its state. */
  async makeDir(dst: string): Promise<MadeDir> {
    let existing: Stats | undefined;
    try {
      existing = await lstat(dst);
    } catch (e) {
      if (!isNotFound(e)) throw fileOpIoError(`stat ${this.display(dst)}`, e);
    }
    if (existing?.isDirectory()) return { state: { created: false, childOwner: this.childOwnerIn(existing) }, created: undefined };
    if (existing) {
      if (!this.opts.alwaysReplace) {
        throw fileOpUserError('FILEOP_NOT_A_DIRECTORY', [this.display(dst)], { location: this.opts.location });
      }
      await rm(dst, { recursive: true, force: true });
    }
    let now: Stats;
    try {
      await mkdir(dst, 0o755);
      now = await lstat(dst);
    } catch (e) {
      throw fileOpIoError(`mkdir ${this.display(dst)}`, e);
    }
    return { state: { created: true, childOwner: this.childOwnerIn(now) }, created: { uid: now.uid, gid: now.gid, bits: now.mode & 0o7777 } };
  }

  /** The owner the kernel gives an entry created in the directory `dir` (lstat) by this process. */
  childOwnerIn(dir: Stats): { readonly uid: number; readonly gid: number } {
    return { uid: this.euid, gid: (dir.mode & S_ISGID) !== 0 ? dir.gid : this.egid };
  }

  /** Removes what is at `dst` so a non-directory can be created there. */
  async clearForNonDir(dst: string): Promise<void> {
    // Synchronous, like the source lstats: usually the answer is "nothing there", one cheap call.
    let existing: Stats | undefined;
    try {
      existing = lstatSync(dst, { throwIfNoEntry: false });
    } catch (e) {
      if (isNotFound(e)) return;
      throw fileOpIoError(`stat ${this.display(dst)}`, e);
    }
    if (existing === undefined) return;
    if (existing.isDirectory()) {
      if (!this.opts.alwaysReplace) {
        throw fileOpUserError('FILEOP_REPLACE_DIR_WITH_FILE', [this.display(dst)], { location: this.opts.location });
      }
      await rm(dst, { recursive: true, force: true });
      return;
    }
    await unlink(dst);
  }
}
