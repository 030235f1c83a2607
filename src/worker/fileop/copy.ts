/**
 * COPY/ADD without a container: the FileActionCopy semantics of BuildKit's file backend and fsutil,
 * on two host directories.
 *
 * - A source directory's contents are copied (with `dirCopyContents`, as Dockerfile COPY sets it);
 *   a file is copied as a file. A destination ending in `/` (or `.`) and `--parents` make the
 *   destination a directory, which must be one if it exists.
 * - Otherwise an existing destination directory receives the source under its own name, and a
 *   missing destination becomes the copy itself. Each match of a wildcard is copied that way, as
 *   fsutil does: `COPY f*.go /one.go` with one match makes the file `/one.go` (several file matches
 *   overwrite each other there, as in Docker; the Dockerfile check for several sources counts the
 *   instruction's sources, not the matches).
 * - Destination parents that do not exist are created 0755, owned by `--chown` (BuildKit does the
 *   same), stamped with `timestamp` when one is given.
 * - The destination path is resolved inside destRoot following symlinks (a symlink to a directory
 *   is followed, scoped to the root); entries below it are never followed.
 * - ADD (`attemptUnpackDockerCompatibility`) unpacks local tar
 *   archives, detected by content, into the destination directory.
 */
import type { Stats } from 'node:fs';
import { lstat, chmod as chmodPath, lchown, mkdir, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { TsbuildError, throwIfAborted, type SourceLocation } from '../../util/errors.js';
import { detectArchive } from './archive-detect.js';
import { parseModeSpec, type ModeSpec } from './chmod.js';
import { Copier } from './copy-tree.js';
import { fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import { FileBatch } from './file-batch.js';
import { applyCopiedMetadata, type MetadataOverrides } from './metadata.js';
import { mkdirAllInRoot, stampCreatedDirs } from './mkdirp.js';
import { resolveOwner } from './owner.js';
import { compilePatterns } from './pattern-filter.js';
import { resolveInRoot } from './root-path.js';
import { nativeSys } from '../../util/native-sys.js';
import { cleanRooted, hostPathOf } from '../../util/root-path.js';
import { timestampSeconds } from './timestamp.js';
import type { CopyAction, CopyResult, FileOpContext } from './types.js';
import { unpackArchive } from './unpack.js';
import { expandSource, type SourceMatch } from './wildcard.js';

const DEFAULT_CONCURRENCY = 8;
/** Wildcard matches copied at once (100,000 matches are not all held at the same time). */
const MAX_IN_FLIGHT = 1024;

/** Runs one copy action from `ctx.srcRoot` into `ctx.destRoot`. */
export async function copy(action: CopyAction, ctx: FileOpContext): Promise<CopyResult> {
  const loc = ctx.location;
  const srcRoot = ctx.srcRoot;
  if (srcRoot === undefined) throw new TsbuildError('FILEOP_NO_SOURCE_ROOT', 'copy needs a source root (FileOpContext.srcRoot)');
  const destRoot = ctx.destRoot;
  throwIfAborted(ctx.signal);

  const owner = await resolveOwner(action.owner, { root: ctx.ownerRoot ?? destRoot, location: loc });
  const overrides: MetadataOverrides = { owner: owner ?? ctx.defaultOwner, mode: modeOf(action, loc), time: timestampSeconds(action) };
  const exclude = compilePatterns(action.excludePatterns, loc);
  const include = compilePatterns(action.includePatterns, loc);
  const hidden = compilePatterns(ctx.srcExcludes, loc);

  const src = action.src ?? '';
  const destRaw = action.dest ?? '';
  const destIn = cleanRooted(destRaw.startsWith('/') ? destRaw : posix.join(ctx.cwd ?? '/', destRaw));
  const destDirHint = destRaw === '' || destRaw === '.' || destRaw.endsWith('/') || destRaw.endsWith('/.');

  // Two spellings of --parents: the frontend's (BuildKit's) puts the pivot in `src` and the rest in
  // an include pattern, so it is a filtered contents copy; a bare `a/./b/c` src pivots here.
  const pivotParents = !!action.parents && !include;
  const { base, pattern } = pivotParents ? splitParentsPivot(src) : { base: '/', pattern: src };
  await checkRequiredPaths(srcRoot, src, action.requiredPaths, loc);
  const expansion = await expandSource({ root: srcRoot, base, pattern, allowWildcard: !!action.allowWildcard, location: loc });
  if (expansion.wildcard && expansion.matches.length === 0) {
    if (action.allowEmptyWildcard) return { sources: [], entries: 0, bytes: 0, unpacked: [] };
    throw fileOpUserError('FILEOP_NO_MATCH', [posix.join('/', src)], { location: loc });
  }
  const destIsDir = destDirHint || !!action.parents;

  const dest = await resolveInRoot(destRoot, destIn, { followFinal: true, location: loc });
  if (!action.createDestPath) await requireParent(dest.host, destIn, loc);
  const destSt = await lstatOrUndefined(dest.host);
  if (destIsDir && destSt && !destSt.isDirectory()) throw fileOpUserError('FILEOP_DEST_NOT_DIR', [destIn], { location: loc });

  const createdDirs: string[] = [];
  const mkdirs = async (p: string): Promise<string> => {
    const r = await mkdirAllInRoot(p, { root: destRoot, mode: 0o755, owner, location: loc });
    createdDirs.push(...r.created);
    return r.host;
  };
  // The destination directory of a wildcard's many matches is made (and looked up) once: what the
  // matches write goes below it and cannot move or replace it.
  let destDir: Promise<{ readonly host: string; readonly st: Stats }> | undefined;
  /**
   * While the destination directory holds only what this copy wrote there by name: the names
   * written (nothing was there before — the copy makes it). Undefined once that is not known.
   */
  let freshNames: Set<string> | undefined = destIsDir && destSt === undefined ? new Set() : undefined;
  const destDirOnce = (): Promise<{ readonly host: string; readonly st: Stats }> =>
    (destDir ??= mkdirs(destIn).then(async (host) => ({ host, st: await lstat(host) })));
  const copier = new Copier({
    destRoot,
    overrides,
    exclude,
    include,
    ...(hidden ? { rootExclude: { matcher: hidden, srcRoot } } : {}),
    alwaysReplace: !!action.alwaysReplaceExistingDestPaths,
    concurrency: ctx.concurrency ?? DEFAULT_CONCURRENCY,
    signal: ctx.signal,
    location: loc,
    reuse: ctx.reuse,
    linkSources: ctx.linkSources === true,
    batch: fileBatch(ctx),
  });
  // unpackSet/unpack only record what `ADD --unpack` said; the frontend folds it into this flag.
  const unpack = !!action.attemptUnpackDockerCompatibility;
  const sources: string[] = [];
  const unpacked: string[] = [];
  const parentDirs = new ParentDirs(overrides, !!action.alwaysReplaceExistingDestPaths, destRoot, loc);
  let unpackedEntries = 0;
  let unpackedBytes = 0;
  const inFlight = new InFlight();
  /** Names of matches started into the destination directory (another match of one waits for it). */
  const started = new Set<string>();

  for (const m of expansion.matches) {
    throwIfAborted(ctx.signal);
    if (inFlight.failed) break;
    // A wildcard match is already resolved up to its last component, and was looked up when found:
    // only a symlink to be followed needs resolving.
    const known = m.stat !== undefined && !(action.followSymlink && m.stat.isSymbolicLink());
    const s = known ? { host: hostPathOf(srcRoot, m.inRoot) } : await resolveInRoot(srcRoot, m.inRoot, { followFinal: !!action.followSymlink, location: loc });
    const st = known ? m.stat : await lstatOrUndefined(s.host);
    if (!st) throw fileOpUserError('FILEOP_SOURCE_NOT_FOUND', [m.inRoot], { location: loc });
    if (expansion.wildcard && exclude?.matchesOrParentMatches(m.rel)) continue;
    const fromRoot = m.inRoot.replace(/^\/+/, '');
    if (hidden && fromRoot !== '' && hidden.matchesOrParentMatches(fromRoot)) {
      if (expansion.wildcard) continue;
      throw fileOpUserError('FILEOP_SOURCE_EXCLUDED', [m.inRoot], { location: loc });
    }
    sources.push(m.inRoot);

    if (unpack && st.isFile()) {
      await inFlight.drain();
      const compression = await detectArchive(s.host, ctx.signal);
      if (compression !== undefined) {
        freshNames = undefined;
        const into = await mkdirs(destIn);
        const r = await unpackArchive({ archive: s.host, archiveName: m.inRoot, compression, dest: into, owner, location: loc, signal: ctx.signal });
        unpacked.push(m.inRoot);
        unpackedEntries += r.entries;
        unpackedBytes += r.bytes;
        continue;
      }
    }

    let target: string;
    /** The directory `target` is created in, when known (lets the copier skip no-op chown/chmod). */
    let into: { readonly st: Stats; readonly absent: boolean } | undefined;
    /** Nothing copied before writes where this match goes: it need not wait for them. */
    let independent = false;
    if (pivotParents) {
      await inFlight.drain();
      freshNames = undefined;
      const dirHost = (await destDirOnce()).host;
      target = await parentDirs.ensure(srcRoot, base, m, dirHost);
    } else if (destIsDir) {
      const dir = await destDirOnce();
      const contents = st.isDirectory() && action.dirCopyContents;
      target = contents ? dir.host : posix.join(dir.host, posix.basename(m.inRoot));
      if (contents) {
        freshNames = undefined; // entries of unknown names land in it
      } else {
        const name = posix.basename(m.inRoot);
        independent = !started.has(name);
        started.add(name);
        into = { st: dir.st, absent: freshNames !== undefined && !freshNames.has(name) };
        freshNames?.add(name);
      }
    } else {
      await inFlight.drain();
      const current = await statOrUndefined(dest.host);
      if (current?.isDirectory()) {
        target = st.isDirectory() && action.dirCopyContents ? dest.host : posix.join(dest.host, posix.basename(m.inRoot));
      } else if (st.isDirectory() && action.dirCopyContents && !current) {
        target = await mkdirs(destIn);
      } else {
        await mkdirs(posix.dirname(dest.inRoot));
        target = dest.host;
      }
    }
    // A wildcard's many matches into one directory are copied together (their small files share
    // batches, file-batch.ts); anything that may meet what an earlier match wrote waits for it.
    if (!independent || inFlight.size >= MAX_IN_FLIGHT) await inFlight.drain();
    inFlight.add(copier.copy(s.host, st, target, '', into));
  }

  await inFlight.drain();
  await parentDirs.finish();
  await stampCreatedDirs(createdDirs, overrides.time);
  return {
    sources,
    entries: copier.entries + unpackedEntries + createdDirs.length + parentDirs.created,
    bytes: copier.bytes + unpackedBytes,
    unpacked,
  };
}

/** The batch copier for small files: the context's, else the native module's when it has one. */
function fileBatch(ctx: FileOpContext): FileBatch | undefined {
  if (ctx.copyFiles === null) return undefined;
  const copyFiles = ctx.copyFiles ?? nativeSys()?.copyFiles;
  return copyFiles === undefined ? undefined : new FileBatch(copyFiles);
}

function modeOf(action: CopyAction, loc: SourceLocation | undefined): ModeSpec | undefined {
  const str = action.modeStr ?? '';
  if (str !== '') {
    const spec = parseModeSpec(str);
    if (!spec) throw fileOpUserError('FILEOP_BAD_CHMOD', [str], { location: loc });
    return spec;
  }
  // A decoded message carries proto3 defaults on its prototype: only a mode actually sent counts.
  if (!Object.hasOwn(action, 'mode') || action.mode == null || action.mode === -1) return undefined;
  return { kind: 'octal', bits: action.mode & 0o7777 };
}

/**
 * `COPY --parents a/./b/c`: the part before a `/./` pivot is dropped from the destination
 * (`b/c` lands under the destination); without a pivot the whole path is kept.
 */
export function splitParentsPivot(src: string): { base: string; pattern: string } {
  let s = src.replace(/^\/+/, '');
  while (s.startsWith('./')) s = s.slice(2).replace(/^\/+/, '');
  const i = s.indexOf('/./');
  if (i < 0) return { base: '/', pattern: s };
  return { base: posix.join('/', s.slice(0, i)), pattern: s.slice(i + 3) };
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw fileOpIoError(`stat ${p}`, e);
  }
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  // `p` is fully resolved inside the root, so lstat sees what stat would (no link at the end).
  return lstatOrUndefined(p);
}

/** `requiredPaths` (in-root, or relative to `src`) must exist: a `COPY --parents` of a missing file fails. */
async function checkRequiredPaths(
  srcRoot: string,
  src: string,
  paths: readonly string[] | null | undefined,
  loc: SourceLocation | undefined,
): Promise<void> {
  for (const p of paths ?? []) {
    const inRoot = p.startsWith('/') ? p : posix.join('/', src, p);
    const r = await resolveInRoot(srcRoot, inRoot, { followFinal: false, location: loc });
    if (!(await lstatOrUndefined(r.host))) throw fileOpUserError('FILEOP_SOURCE_NOT_FOUND', [cleanRooted(inRoot)], { location: loc });
  }
}

async function requireParent(host: string, destIn: string, loc: SourceLocation | undefined): Promise<void> {
  const parent = await lstatOrUndefined(posix.dirname(host));
  if (!parent?.isDirectory()) throw fileOpUserError('FILEOP_DEST_PARENT_MISSING', [destIn], { location: loc });
}

/** Copies of wildcard matches under way; drain() waits for all and throws the first failure. */
class InFlight {
  failed = false;
  private tasks: Promise<{ readonly error: unknown } | undefined>[] = [];

  add(p: Promise<void>): void {
    this.tasks.push(
      p.then(
        () => undefined,
        (error: unknown) => {
          this.failed = true;
          return { error };
        },
      ),
    );
  }

  get size(): number {
    return this.tasks.length;
  }

  async drain(): Promise<void> {
    const tasks = this.tasks;
    this.tasks = [];
    for (const o of await Promise.all(tasks)) if (o) throw o.error;
  }
}

/**
 * The intermediate directories `--parents` recreates under the destination. New ones copy the
 * metadata of their source directories (as BuildKit's include-pattern copy does), applied once the
 * whole copy is done so their times are not disturbed by the entries written into them.
 */
class ParentDirs {
  created = 0;
  private readonly pending: { readonly src: string; readonly st: Stats; readonly dst: string }[] = [];

  constructor(
    private readonly overrides: MetadataOverrides,
    private readonly alwaysReplace: boolean,
    private readonly destRoot: string,
    private readonly location: SourceLocation | undefined,
  ) {}

  /** Ensures the parents of `m.rel` below `destDirHost`; returns the host path for the match itself. */
  async ensure(srcRoot: string, base: string, m: SourceMatch, destDirHost: string): Promise<string> {
    const comps = m.rel.split('/').filter((c) => c !== '');
    let dst = destDirHost;
    let rel = '';
    for (const c of comps.slice(0, -1)) {
      rel = rel === '' ? c : `${rel}/${c}`;
      dst = posix.join(dst, c);
      const existing = await lstatOrUndefined(dst);
      if (existing?.isDirectory()) continue;
      if (existing) {
        if (!this.alwaysReplace) {
          throw fileOpUserError('FILEOP_NOT_A_DIRECTORY', ['/' + posix.relative(this.destRoot, dst)], { location: this.location });
        }
        await rm(dst, { recursive: true, force: true });
      }
      const src = await resolveInRoot(srcRoot, posix.join(base, rel), { followFinal: true });
      const st = await lstatOrUndefined(src.host);
      try {
        await mkdir(dst, 0o755);
        await chmodPath(dst, 0o755);
        if (this.overrides.owner) await lchown(dst, this.overrides.owner.uid, this.overrides.owner.gid);
      } catch (e) {
        throw fileOpIoError(`mkdir ${dst}`, e);
      }
      this.created++;
      if (st?.isDirectory()) this.pending.push({ src: src.host, st, dst });
    }
    return posix.join(destDirHost, ...comps);
  }

  async finish(): Promise<void> {
    for (const p of this.pending.reverse()) await applyCopiedMetadata(p.src, p.st, p.dst, this.overrides);
  }
}
