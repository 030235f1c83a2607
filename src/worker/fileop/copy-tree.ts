/**
 * The copier: writes one source entry (a file, a symlink, a special file, or a whole directory tree)
 * to a destination path with `cp -a` semantics as BuildKit's fsutil does. Symlinks are copied as
 * links and never followed; hardlinked files within one copy stay hardlinked; xattrs, owners, modes
 * and times travel (with the --chown/--chmod/timestamp overrides). File contents stream through
 * copy_file_range or a reflink (copyFile with COPYFILE_FICLONE), a bounded number at a time.
 *
 * Destination entries are created with exclusive flags and without following links: an existing
 * symlink in the destination is replaced, never written through.
 */
import { constants, type Stats } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { throwIfAborted, type SourceLocation } from '../../util/errors.js';
import { fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import { Limiter } from './limiter.js';
import { applyCopiedMetadata, setTimes, type MetadataOverrides } from './metadata.js';
import type { PatternMatcher } from '../../util/pattern-matcher/index.js';
import { mayReincludeBelow } from './pattern-filter.js';
import { makeSpecialFile, splitDevice } from './special-files.js';

export interface CopierOptions {
  readonly destRoot: string;
  readonly overrides: MetadataOverrides;
  readonly exclude: PatternMatcher | undefined;
  readonly include: PatternMatcher | undefined;
  /** Entries hidden from the copy (`.dockerignore`), matched against paths relative to `srcRoot`. */
  readonly rootExclude?: { readonly matcher: PatternMatcher; readonly srcRoot: string } | undefined;
  /** Replace destination entries of another type instead of failing. */
  readonly alwaysReplace: boolean;
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  readonly location: SourceLocation | undefined;
}

/** A destination directory that is created on first use (for excluded-but-descended directories). */
interface DestDir {
  ensure(): Promise<void>;
}

const READY: DestDir = { ensure: async () => undefined };

export class Copier {
  entries = 0;
  bytes = 0;
  private readonly limiter: Limiter;
  /** dev:ino of multiply linked source files → the destination path of their first copy. */
  private readonly inodes = new Map<string, Promise<string>>();
  private failed = false;

  constructor(private readonly opts: CopierOptions) {
    this.limiter = new Limiter(opts.concurrency);
  }

  /**
   * Copies the source entry `src` (lstat `st`) to `dst`. `rel` is the entry's path for include and
   * exclude patterns ('' = not filtered). A top-level directory that already exists keeps its own
   * metadata, as in BuildKit; nested ones take the source's.
   */
  async copy(src: string, st: Stats, dst: string, rel: string): Promise<void> {
    await this.visit(src, st, dst, rel, READY, true);
  }

  private display(dst: string): string {
    return '/' + posix.relative(this.opts.destRoot, dst);
  }

  private async visit(src: string, st: Stats, dst: string, rel: string, parent: DestDir, isTop: boolean): Promise<void> {
    throwIfAborted(this.opts.signal);
    let lazy = false;
    const hidden = this.opts.rootExclude;
    if (hidden) {
      const fromRoot = posix.relative(hidden.srcRoot, src);
      if (fromRoot !== '' && !fromRoot.startsWith('..') && hidden.matcher.matchesOrParentMatches(fromRoot)) {
        if (!st.isDirectory() || !mayReincludeBelow(hidden.matcher, fromRoot)) return;
        lazy = true;
      }
    }
    if (rel !== '') {
      const { exclude, include } = this.opts;
      if (exclude?.matchesOrParentMatches(rel)) {
        if (!st.isDirectory() || !mayReincludeBelow(exclude, rel)) return;
        lazy = true;
      }
      if (include && !include.matchesOrParentMatches(rel)) {
        if (!st.isDirectory()) return;
        lazy = true;
      }
    }
    if (st.isDirectory()) {
      await this.visitDir(src, st, dst, rel, parent, isTop, lazy);
      return;
    }
    await this.leafTask(src, st, dst, parent);
  }

  /** Schedules a non-directory entry; hardlinks to an inode already being copied just link to it. */
  private leafTask(src: string, st: Stats, dst: string, parent: DestDir): Promise<void> {
    if (st.isFile() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      if (first) return this.linkTo(first, dst, parent);
      const copied = this.limiter.run(() => this.leaf(src, st, dst, parent)).then(() => dst);
      this.inodes.set(key, copied);
      return copied.then(() => undefined);
    }
    return this.limiter.run(() => this.leaf(src, st, dst, parent));
  }

  private async linkTo(first: Promise<string>, dst: string, parent: DestDir): Promise<void> {
    const target = await first;
    await parent.ensure();
    await this.clearForNonDir(dst);
    try {
      await link(target, dst);
    } catch (e) {
      throw fileOpIoError(`hardlink ${this.display(dst)}`, e);
    }
    this.entries++;
  }

  private async visitDir(src: string, st: Stats, dst: string, rel: string, parent: DestDir, isTop: boolean, lazy: boolean): Promise<void> {
    let made: Promise<boolean> | undefined;
    const self: DestDir = {
      ensure: () => {
        made ??= parent.ensure().then(() => this.makeDir(dst));
        return made.then(() => undefined);
      },
    };
    if (!lazy) await self.ensure();
    let names: string[];
    try {
      names = (await readdir(src)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    } catch (e) {
      throw fileOpIoError(`read directory ${src}`, e);
    }
    // Each task settles into an outcome right away, so a failure waiting here is never "unhandled".
    const tasks: Promise<{ readonly error: unknown } | undefined>[] = [];
    let error: unknown;
    try {
      for (const name of names) {
        if (this.failed) break;
        const childSrc = posix.join(src, name);
        const childDst = posix.join(dst, name);
        const childRel = rel === '' ? name : `${rel}/${name}`;
        let cst: Stats;
        try {
          cst = await lstat(childSrc);
        } catch (e) {
          if (isNotFound(e)) continue;
          throw fileOpIoError(`stat ${childSrc}`, e);
        }
        const t = this.visit(childSrc, cst, childDst, childRel, self, false);
        if (cst.isDirectory()) await t;
        else
          tasks.push(
            t.then(
              () => undefined,
              (e: unknown) => {
                this.failed = true;
                return { error: e };
              },
            ),
          );
      }
    } catch (e) {
      error = e;
      this.failed = true;
    }
    const outcomes = await Promise.all(tasks);
    if (error !== undefined) throw error;
    for (const o of outcomes) if (o) throw o.error;
    if (made === undefined) return;
    const created = await made;
    // Times go last: writing children has just moved the directory's mtime.
    if (created || !isTop) await applyCopiedMetadata(src, st, dst, this.opts.overrides);
  }

  /** Makes `dst` a directory; true when it was created (rather than merged into). */
  private async makeDir(dst: string): Promise<boolean> {
    let existing: Stats | undefined;
    try {
      existing = await lstat(dst);
    } catch (e) {
      if (!isNotFound(e)) throw fileOpIoError(`stat ${this.display(dst)}`, e);
    }
    if (existing?.isDirectory()) return false;
    if (existing) {
      if (!this.opts.alwaysReplace) {
        throw fileOpUserError('FILEOP_NOT_A_DIRECTORY', [this.display(dst)], { location: this.opts.location });
      }
      await rm(dst, { recursive: true, force: true });
    }
    try {
      await mkdir(dst, 0o755);
    } catch (e) {
      throw fileOpIoError(`mkdir ${this.display(dst)}`, e);
    }
    this.entries++;
    return true;
  }

  /** Removes what is at `dst` so a non-directory can be created there. */
  private async clearForNonDir(dst: string): Promise<void> {
    let existing: Stats;
    try {
      existing = await lstat(dst);
    } catch (e) {
      if (isNotFound(e)) return;
      throw fileOpIoError(`stat ${this.display(dst)}`, e);
    }
    if (existing.isDirectory()) {
      if (!this.opts.alwaysReplace) {
        throw fileOpUserError('FILEOP_REPLACE_DIR_WITH_FILE', [this.display(dst)], { location: this.opts.location });
      }
      await rm(dst, { recursive: true, force: true });
      return;
    }
    await unlink(dst);
  }

  private async leaf(src: string, st: Stats, dst: string, parent: DestDir): Promise<void> {
    if (this.failed) return;
    throwIfAborted(this.opts.signal);
    if (st.isSocket()) return; // a socket cannot be recreated meaningfully; BuildKit's context skips them too
    await parent.ensure();
    await this.clearForNonDir(dst);
    try {
      if (st.isFile()) {
        await copyFile(src, dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        this.bytes += st.size;
      } else if (st.isSymbolicLink()) {
        await symlink(await readlink(src), dst);
      } else {
        const kind = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block';
        await makeSpecialFile(dst, { kind, mode: st.mode, ...splitDevice(st.rdev), signal: this.opts.signal });
      }
    } catch (e) {
      throw fileOpIoError(`copy ${src} to ${this.display(dst)}`, e);
    }
    this.entries++;
    await applyCopiedMetadata(src, st, dst, this.opts.overrides);
  }
}

/** Sets the override time (or keeps) on directories the copy created as destination parents. */
export async function stampCreatedDirs(created: readonly string[], time: number | undefined): Promise<void> {
  if (time === undefined) return;
  for (const dir of [...created].reverse()) await setTimes(dir, { atimeMs: 0, mtimeMs: 0 }, time);
}
