/**
 * A file of the daemon's context copy may be hard-linked into a layer: a COPY from the copy takes
 * its files by link instead of copying them (BuildRequest.contextLinkable, docs/incremental-copy.md
 * "Links from the daemon's context copy"). A layer never changes, so neither may such an inode: a
 * sync gives new content a new file anyway (writeNewFile, a rename), and before it sets the mode,
 * owner or times of a file that has other links, it replaces the file by a copy of its own (same
 * bytes, a new inode) and changes that one. Only regular files are ever linked.
 */
import { constants, copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class Detacher {
  readonly #scratch: string;
  #made = false;

  /** `scratch`: a directory outside the copy on the same file system (made on first use). */
  constructor(scratch: string) {
    this.#scratch = scratch;
  }

  /**
   * Makes the regular file `p` (link count `nlink`) the only link of its inode, so that changing
   * its attributes changes no layer; true when it was replaced (it then has the daemon's owner and
   * the current time: the caller sets all attributes). A reflink where the file system has them.
   */
  detach(p: string, nlink: number | bigint): boolean {
    if (nlink <= 1) return false;
    if (!this.#made) {
      rmSync(this.#scratch, { recursive: true, force: true });
      mkdirSync(this.#scratch, { recursive: true });
      this.#made = true;
    }
    const tmp = join(this.#scratch, 'file');
    copyFileSync(p, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    renameSync(tmp, p);
    return true;
  }

  /** Removes the scratch directory, if one was made. */
  finish(): void {
    if (this.#made) rmSync(this.#scratch, { recursive: true, force: true });
    this.#made = false;
  }
}
