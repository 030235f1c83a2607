/**
 * The copier: writes one source entry (a file, a symlink, a special file, or a whole directory tree)
 * to a destination path with `cp -a` semantics as BuildKit's fsutil does. Symlinks are copied as
 * links and never followed; hardlinked files within one copy stay hardlinked; xattrs, owners, modes
 * and times travel (with the --chown/--chmod/timestamp overrides). File contents stream through
 * copy_file_range or a reflink (copyFile with COPYFILE_FICLONE), a bounded number at a time.
 *
 * Destination entries are created with exclusive flags and without following links: an existing
 * symlink in the destination is replaced, never written through.
 *
 * Small files are bound by per-file system calls and thread-pool trips, so the copier makes as few
 * as `cp -a` does (issue 14). Files up to 128 KiB are copied with their metadata in batches of the
 * native module, off the event loop (file-batch.ts; a file into a directory the copy made takes no
 * await at all); without the module, with synchronous calls, as the layer applier does: for them a
 * trip through the pool costs more than the call. Symlinks, source lstats, xattr listings and times
 * are synchronous calls too (a directory's entries are started 256 per event-loop turn, so the loop
 * keeps turning). Bigger files, readdirs and fifos go through one limiter. Subdirectories are walked
 * concurrently.
 * A directory the copy created itself is known to be empty, so its entries are not looked up before
 * being written; and the owner and mode a new entry got at creation are known (the creator's ids, or
 * the directory's group when it is setgid; copyFile sets the source's mode), so chown and chmod calls
 * that would change nothing are left out. Times and xattrs are still written for every entry.
 */
import { constants, copyFileSync, linkSync, lstatSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { copyFile, link, readdir } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { posix } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';
import { sortNames } from './byte-order.js';
import { CopyDestination, READY, type CopyDestinationOptions, type DestDir, type DirState, type MadeDir } from './copy-destination.js';
import { fileOpIoError } from './errors.js';
import { Limiter } from './limiter.js';
import { applyCopiedMetadata, copiedAttrs, copyableXattr, xattrNames, type CreatedState, type MetadataOverrides } from './metadata.js';
import type { FileBatch } from './file-batch.js';
import type { CopiedAttrs, FileReuse } from './types.js';
import type { PatternMatcher } from '../../util/pattern-matcher/index.js';
import { mayReincludeBelow } from './pattern-filter.js';
import { makeSpecialFile, splitDevice } from './special-files.js';

export interface CopierOptions extends CopyDestinationOptions {
  readonly overrides: MetadataOverrides;
  readonly exclude: PatternMatcher | undefined;
  readonly include: PatternMatcher | undefined;
  /** Entries hidden from the copy (`.dockerignore`), matched against paths relative to `srcRoot`. */
  readonly rootExclude?: { readonly matcher: PatternMatcher; readonly srcRoot: string } | undefined;
  readonly concurrency: number;
  readonly signal: AbortSignal | undefined;
  /** Incremental COPY (docs/incremental-copy.md): regular files that may be hard-linked instead of copied. */
  readonly reuse?: FileReuse | undefined;
  /** Regular source files may be hard-linked where the copy would equal them (FileOpContext.linkSources). */
  readonly linkSources?: boolean;
  /** Copies small regular files in batches off the event loop; undefined: from JavaScript. */
  readonly batch?: FileBatch | undefined;
}

/**
 * Files up to this size are copied with synchronous calls (as `cp -a` and the layer applier do):
 * for a small file the trip through the thread pool costs more than the copy. Bigger ones go
 * through the pool, a bounded number at a time.
 */
const SYNC_COPY_MAX = 128 * 1024;
/** Entries of one directory started per event-loop turn, so a huge directory does not block it. */
const ENTRIES_PER_TURN = 256;
const DONE = Promise.resolve();

export class Copier {
  entries = 0;
  bytes = 0;
  private readonly limiter: Limiter;
  private readonly dest: CopyDestination;
  /** dev:ino of multiply linked source files → the destination path of their first copy. */
  private readonly inodes = new Map<string, Promise<string>>();
  private failed = false;
  /**
   * Inodes of source files this copy linked into the destination (FileOpContext.linkSources): a
   * source reached twice (a followed symlink and its target) is linked once and then copied, as
   * two paths on one inode would make the layer tar a hardlink. Undefined: no linking (not
   * allowed, or the kernel refused a link across file systems).
   */
  private sourceLinks: Set<number> | undefined;

  constructor(private readonly opts: CopierOptions) {
    this.limiter = new Limiter(opts.concurrency);
    this.dest = new CopyDestination(opts);
    if (opts.linkSources === true) this.sourceLinks = new Set();
  }

  /**
   * Copies the source entry `src` (lstat `st`) to `dst`. `rel` is the entry's path for include and
   * exclude patterns ('' = not filtered). A top-level directory that already exists keeps its own
   * metadata, as in BuildKit; nested ones take the source's. `into`, the lstat of the existing
   * directory `dst` is created in, tells the owner a new entry gets there (so a chown or chmod that
   * would change nothing is left out, as for entries of directories the copy made); `absent`: the
   * caller knows nothing is at `dst` (it made that directory and wrote no entry of that name into
   * it), so `dst` is not looked up before it is written — one lstat less per match of a wildcard
   * into a new directory (`COPY f* /files/` of 100,000 files, issue 14).
   */
  async copy(src: string, st: Stats, dst: string, rel: string, into?: { readonly st: Stats; readonly absent: boolean }): Promise<void> {
    let parent = READY;
    if (into !== undefined) {
      const state: DirState = { created: into.absent, childOwner: this.dest.childOwnerIn(into.st) };
      parent = { ensure: async () => state, known: state };
    }
    await this.visit(src, st, dst, rel, parent, true);
  }

  /** Not async: an entry takes one async frame (visitChild), which is what a small file costs most. */
  private visit(src: string, st: Stats, dst: string, rel: string, parent: DestDir, isTop: boolean): Promise<void> {
    throwIfAborted(this.opts.signal);
    let lazy = false;
    const hidden = this.opts.rootExclude;
    if (hidden) {
      const fromRoot = posix.relative(hidden.srcRoot, src);
      if (fromRoot !== '' && !fromRoot.startsWith('..') && hidden.matcher.matchesOrParentMatches(fromRoot)) {
        if (!st.isDirectory() || !mayReincludeBelow(hidden.matcher, fromRoot)) return DONE;
        lazy = true;
      }
    }
    if (rel !== '') {
      const { exclude, include } = this.opts;
      if (exclude?.matchesOrParentMatches(rel)) {
        if (!st.isDirectory() || !mayReincludeBelow(exclude, rel)) return DONE;
        lazy = true;
      }
      if (include && !include.matchesOrParentMatches(rel)) {
        if (!st.isDirectory()) return DONE;
        lazy = true;
      }
    }
    if (st.isDirectory()) return this.visitDir(src, st, dst, rel, parent, isTop, lazy);
    return this.leafTask(src, st, dst, parent);
  }

  /**
   * Schedules a non-directory entry; hardlinks to an inode already being copied just link to it.
   * Small files and symlinks are copied with synchronous calls, so they run at once: queueing them
   * would only keep their stats alive (100,000 queued entries cost more in GC than they save).
   */
  private leafTask(src: string, st: Stats, dst: string, parent: DestDir): Promise<void> {
    const direct = st.isSymbolicLink() || (st.isFile() && st.size <= SYNC_COPY_MAX);
    const run = (): Promise<void> => (direct ? this.leaf(src, st, dst, parent) : this.limiter.run(() => this.leaf(src, st, dst, parent)));
    // Sources that may be linked are never links of each other: their link counts are layers'.
    if (st.isFile() && st.nlink > 1 && this.sourceLinks === undefined) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      if (first) return this.linkTo(first, src, st, dst, parent);
      const copied = run().then(() => dst);
      this.inodes.set(key, copied);
      return copied.then(() => undefined);
    }
    return run();
  }

  private async linkTo(first: Promise<string>, src: string, st: Stats, dst: string, parent: DestDir): Promise<void> {
    const target = await first;
    const dir = await parent.ensure();
    if (!dir.created) await this.dest.clearForNonDir(dst);
    try {
      await link(target, dst);
    } catch (e) {
      throw fileOpIoError(`hardlink ${this.dest.display(dst)}`, e);
    }
    this.entries++;
    this.opts.reuse?.written(src, st, dst, 'hardlink', copiedAttrs(st, this.opts.overrides));
  }

  private async visitDir(src: string, st: Stats, dst: string, rel: string, parent: DestDir, isTop: boolean, lazy: boolean): Promise<void> {
    let made: Promise<MadeDir> | undefined;
    const make = (): Promise<MadeDir> => (made ??= parent.ensure().then(() => this.makeDir(dst)));
    const self: { known: DirState | undefined; ensure(): Promise<DirState> } = { known: undefined, ensure: () => make().then((m) => m.state) };
    if (!lazy) self.known = await self.ensure();
    let names: string[];
    try {
      names = sortNames(await this.limiter.run(() => readdir(src)));
    } catch (e) {
      throw fileOpIoError(`read directory ${src}`, e);
    }
    // Every child (subdirectories too) runs at once, bounded by the limiter; each task settles into
    // an outcome right away, so a failure waiting here is never "unhandled".
    const tasks: Promise<{ readonly error: unknown } | undefined>[] = [];
    // Normalised once, with a trailing slash: children's paths are then a concatenation each.
    const srcDir = posix.join(src, '/');
    const dstDir = posix.join(dst, '/');
    const batch = this.opts.batch;
    for (let i = 0; i < names.length; i++) {
      if (i > 0 && i % ENTRIES_PER_TURN === 0) await nextTurn();
      const room = batch?.room();
      if (room !== undefined) await room;
      const name = names[i] as string;
      tasks.push(
        this.visitChild(srcDir + name, dstDir + name, rel === '' ? name : `${rel}/${name}`, self).then(
          () => undefined,
          (e: unknown) => {
            this.failed = true;
            return { error: e };
          },
        ),
      );
    }
    const outcomes = await Promise.all(tasks);
    for (const o of outcomes) if (o) throw o.error;
    if (made === undefined) return;
    const m = await made;
    // Times go last: writing children has just moved the directory's mtime.
    if (m.state.created || !isTop) await applyCopiedMetadata(src, st, dst, this.opts.overrides, { created: m.created });
  }

  private async visitChild(src: string, dst: string, rel: string, parent: DestDir): Promise<void> {
    if (this.failed) return;
    // A synchronous lstat: the entry was just listed, its inode is cached, and a trip through the
    // thread pool costs more than the call itself.
    let st: Stats | undefined;
    try {
      st = lstatSync(src, { throwIfNoEntry: false });
    } catch (e) {
      throw fileOpIoError(`stat ${src}`, e);
    }
    if (st === undefined) return;
    await this.visit(src, st, dst, rel, parent, false);
  }

  /** Makes `dst` a directory (copy-destination.ts), counting it when the copy created it. */
  private async makeDir(dst: string): Promise<MadeDir> {
    const m = await this.dest.makeDir(dst);
    if (m.state.created) this.entries++;
    return m;
  }

  private leaf(src: string, st: Stats, dst: string, parent: DestDir): Promise<void> {
    // The common case without a single await: a small file into a directory this copy made (not
    // when the file may be linked instead: leafAwaiting tries that first).
    const batch = this.opts.batch;
    const known = parent.known;
    if (batch && known?.created && !this.opts.reuse && !this.sourceLinks && !this.failed && st.isFile() && st.size <= SYNC_COPY_MAX) {
      throwIfAborted(this.opts.signal);
      return this.batched(batch, src, st, dst, known.childOwner, undefined);
    }
    return this.leafAwaiting(src, st, dst, parent);
  }

  private async leafAwaiting(src: string, st: Stats, dst: string, parent: DestDir): Promise<void> {
    if (this.failed) return;
    throwIfAborted(this.opts.signal);
    if (st.isSocket()) return; // a socket cannot be recreated meaningfully; BuildKit's context skips them too
    const dir = await parent.ensure();
    if (!dir.created) await this.dest.clearForNonDir(dst);
    const owner = dir.childOwner;
    let created: CreatedState | undefined;
    const reuse = this.opts.reuse;
    const want = (reuse || this.sourceLinks) && st.isFile() ? copiedAttrs(st, this.opts.overrides) : undefined;
    if (reuse && want) {
      const from = reuse.linkSource(src, st, dst, want);
      if (from !== undefined && this.tryLink(from, dst)) {
        this.entries++;
        reuse.written(src, st, dst, 'linked', want);
        return;
      }
    }
    const linked = want ? this.linkSource(src, st, dst, want) : undefined;
    if (want && linked !== undefined) {
      this.entries++;
      this.bytes += st.size;
      // The source's xattrs were just listed: none means an empty digest, without listing again.
      reuse?.written(src, st, dst, 'source', want, linked.length === 0 ? '' : undefined);
      return;
    }
    const batch = this.opts.batch;
    if (batch && st.isFile() && st.size <= SYNC_COPY_MAX) {
      await this.batched(batch, src, st, dst, owner, want);
      return;
    }
    try {
      if (st.isFile()) {
        // copyFile gives the new file the source's mode (an fchmod, so the umask plays no part).
        const flags = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
        if (st.size <= SYNC_COPY_MAX) copyFileSync(src, dst, flags);
        else await copyFile(src, dst, flags);
        this.bytes += st.size;
        if (owner) created = { ...owner, bits: st.mode & 0o7777 };
      } else if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(src), dst);
        if (owner) created = { ...owner, bits: undefined };
      } else {
        const kind = st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block';
        await makeSpecialFile(dst, { kind, mode: st.mode, ...splitDevice(st.rdev), signal: this.opts.signal });
      }
    } catch (e) {
      throw fileOpIoError(`copy ${src} to ${this.dest.display(dst)}`, e);
    }
    this.entries++;
    await applyCopiedMetadata(src, st, dst, this.opts.overrides, { created });
    if (reuse && want) reuse.written(src, st, dst, 'copied', want);
  }

  /** Copies a small regular file with its metadata in a batch (file-batch.ts), as leaf() would. */
  private batched(batch: FileBatch, src: string, st: Stats, dst: string, owner: DirState['childOwner'], want: CopiedAttrs | undefined): Promise<void> {
    const { uid, gid, bits } = want ?? copiedAttrs(st, this.opts.overrides);
    const time = this.opts.overrides.time;
    return batch
      .add({
        src,
        dst,
        uid,
        gid,
        bits,
        chown: owner === undefined || owner.uid !== uid || owner.gid !== gid,
        atime: time ?? st.atimeMs / 1000,
        mtime: time ?? st.mtimeMs / 1000,
        size: st.size,
      })
      .then(
        () => {
          this.bytes += st.size;
          this.entries++;
          if (want) this.opts.reuse?.written(src, st, dst, 'copied', want);
        },
        (e: unknown) => {
          throw fileOpIoError(`copy ${src} to ${this.dest.display(dst)}`, e);
        },
      );
  }

  /**
   * Hard-links the source file itself when that is what the copy would make: the owner and bits
   * the copy gives it are the source's, no time override, only xattrs a copy keeps, and a link
   * count of 1 (no layer holds it yet; one that does came from an earlier copy, and its path in
   * the previous layer may be linked here too). Linked: the source's xattr names; undefined: copy it.
   */
  private linkSource(src: string, st: Stats, dst: string, want: CopiedAttrs): readonly string[] | undefined {
    const links = this.sourceLinks;
    if (links === undefined || st.nlink !== 1 || links.has(st.ino) || this.opts.overrides.time !== undefined) return undefined;
    if (want.uid !== st.uid || want.gid !== st.gid || want.bits !== (st.mode & 0o7777)) return undefined;
    const names = xattrNames(src);
    if (names === undefined || !names.every(copyableXattr)) return undefined;
    try {
      linkSync(src, dst);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EXDEV') this.sourceLinks = undefined;
      return undefined;
    }
    links.add(st.ino);
    return names;
  }

  /**
   * Hard-links an earlier layer's file; false when the kernel refuses (EMLINK after very many
   * layers share the inode, EXDEV), so the file is copied instead.
   */
  private tryLink(from: string, dst: string): boolean {
    try {
      linkSync(from, dst);
      return true;
    } catch {
      return false;
    }
  }
}
