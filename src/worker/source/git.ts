/**
 * The git source (`ADD git@…`, `ADD https://…/repo.git#v1:docs`). A ref is first resolved to a
 * commit with `git ls-remote` (that commit is what the solver keys on), then fetched shallowly into
 * a fresh repository and checked out. Submodules are checked out too. Without `keepGitDir` the
 * result holds the files only; with `subdir`, only that directory's contents (copied with the file
 * ops' root-scoped copy, so a subdir symlink cannot reach outside the checkout).
 */
import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { UserInputError, throwIfAborted, type SourceLocation } from '../../util/errors.js';
import { copy } from '../fileop/copy.js';
import { runGit } from './git-run.js';
import { redactUrl } from './http.js';
import type { GitSourceOptions, GitSourceResult } from './types.js';

const FULL_SHA = /^[0-9a-f]{40}$/;
const SHORT_SHA = /^[0-9a-f]{4,39}$/;

export interface ResolveGitRefOptions {
  readonly remote: string;
  readonly ref?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly location?: SourceLocation | undefined;
}

export interface ResolvedGitRef {
  /** The commit, or undefined for an abbreviated commit id (known only after a full fetch). */
  readonly commit: string | undefined;
  readonly refName: string | undefined;
}

/** Resolves a branch, tag or ref to the commit it names on the remote (`git ls-remote`). */
export async function resolveGitRef(opts: ResolveGitRefOptions): Promise<ResolvedGitRef> {
  const ref = opts.ref ?? 'HEAD';
  if (FULL_SHA.test(ref)) return { commit: ref, refName: undefined };
  // The `^{}` pattern lists the peeled commit of an annotated tag (patterns match ref name tails).
  const out = await runGit(['ls-remote', '--', opts.remote, ref, `${ref}^{}`], {
    signal: opts.signal,
    location: opts.location,
    what: `git ls-remote ${redactUrl(opts.remote)}`,
  });
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  const candidates = ref === 'HEAD' || ref.startsWith('refs/') ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  for (const name of candidates) {
    // An annotated tag is listed twice; the peeled entry (^{}) names the commit.
    const sha = refs.get(`${name}^{}`) ?? refs.get(name);
    if (sha) return { commit: sha, refName: name };
  }
  if (SHORT_SHA.test(ref)) return { commit: undefined, refName: undefined };
  throw new UserInputError('GIT_REF_NOT_FOUND', `git ref "${ref}" not found in ${redactUrl(opts.remote)}`, opts.location ? { location: opts.location } : {});
}

/** Fetches the repository at the ref into `opts.destDir`. */
export async function fetchGitSource(opts: GitSourceOptions): Promise<GitSourceResult> {
  const loc = opts.location;
  const resolved = await resolveGitRef(opts);
  // Fail before transferring anything when ls-remote already tells the commit.
  if (resolved.commit) checkCommit(resolved.commit, opts);
  await mkdir(opts.tmpDir, { recursive: true });
  const scratch = await mkdtemp(join(opts.tmpDir, 'git-'));
  try {
    const work = opts.subdir ? join(scratch, 'checkout') : opts.destDir;
    const git = (args: readonly string[]) => runGit(args, { cwd: work, signal: opts.signal, location: loc });
    await runGit(['init', '-q', work], { signal: opts.signal, location: loc });
    const commit = await fetchCommit(git, opts.remote, resolved, opts.ref ?? 'HEAD', loc);
    checkCommit(commit, opts);
    const branch = resolved.refName?.startsWith('refs/heads/') ? resolved.refName.slice('refs/heads/'.length) : undefined;
    if (opts.keepGitDir && !opts.subdir && branch) await git(['checkout', '-q', '-B', branch, commit]);
    else await git(['checkout', '-q', '--detach', commit]);
    if (await exists(join(work, '.gitmodules'))) {
      await git(['-c', 'protocol.file.allow=always', 'submodule', 'update', '-q', '--init', '--recursive', '--depth=1']);
    }
    if (opts.keepGitDir && !opts.subdir) {
      await git(['remote', 'add', 'origin', stripCredentials(opts.remote)]);
    } else {
      await removeGitMetadata(git, work);
    }
    throwIfAborted(opts.signal);
    if (opts.subdir) await copySubdir(work, opts.subdir, opts, loc);
    return { commit, refName: resolved.refName };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

type Git = (args: readonly string[]) => Promise<string>;

/** `--checksum` of a git source: the checked-out commit must start with it. */
function checkCommit(commit: string, opts: GitSourceOptions): void {
  const want = opts.checksum?.trim().toLowerCase();
  if (!want) return;
  if (!/^[0-9a-f]{4,40}$/.test(want) || !commit.startsWith(want)) {
    throw new UserInputError(
      'GIT_CHECKSUM_MISMATCH',
      `checksum mismatch for ${redactUrl(opts.remote)}${opts.ref ? `#${opts.ref}` : ''}: expected commit ${want}, got ${commit}`,
      opts.location ? { location: opts.location } : {},
    );
  }
}

/** Fetches what `resolved` names and returns the commit checked out. */
async function fetchCommit(git: Git, remote: string, resolved: ResolvedGitRef, ref: string, loc: SourceLocation | undefined): Promise<string> {
  if (resolved.refName) {
    await git(['fetch', '-q', '--depth=1', '--no-tags', '--', remote, resolved.refName]);
    return (await git(['rev-parse', 'FETCH_HEAD^{commit}'])).trim();
  }
  if (resolved.commit) {
    try {
      await git(['fetch', '-q', '--depth=1', '--no-tags', '--', remote, resolved.commit]);
      return (await git(['rev-parse', `${resolved.commit}^{commit}`])).trim();
    } catch {
      // The server does not serve unadvertised commits: fetch everything and look for it.
    }
  }
  await git(['fetch', '-q', '--tags', '--', remote, '+refs/heads/*:refs/remotes/origin/*']);
  try {
    return (await git(['rev-parse', '--verify', '-q', `${ref}^{commit}`])).trim();
  } catch {
    throw new UserInputError('GIT_REF_NOT_FOUND', `git ref "${ref}" not found in ${redactUrl(remote)}`, loc ? { location: loc } : {});
  }
}

/** Drops `.git` of the checkout and of its submodules (their `.git` files point into it). */
async function removeGitMetadata(git: Git, work: string): Promise<void> {
  let subs: string[] = [];
  if (await exists(join(work, '.gitmodules'))) {
    const out = await git(['submodule', 'status', '--recursive']);
    subs = out
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[1])
      .filter((p): p is string => p !== undefined && p !== '');
  }
  for (const s of subs) await rm(join(work, s, '.git'), { recursive: true, force: true });
  await rm(join(work, '.git'), { recursive: true, force: true });
}

async function copySubdir(work: string, subdir: string, opts: GitSourceOptions, loc: SourceLocation | undefined): Promise<void> {
  const src = posix.join('/', subdir);
  try {
    await copy({ src, dest: '/', followSymlink: true, dirCopyContents: true, createDestPath: true }, {
      srcRoot: work,
      destRoot: opts.destDir,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(loc ? { location: loc } : {}),
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'FILEOP_SOURCE_NOT_FOUND') {
      throw new UserInputError('GIT_BAD_SUBDIR', `subdirectory "${subdir}" not found in ${redactUrl(opts.remote)}`, loc ? { location: loc } : {});
    }
    throw e;
  }
}

function stripCredentials(remote: string): string {
  try {
    const u = new URL(remote);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return remote;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}
