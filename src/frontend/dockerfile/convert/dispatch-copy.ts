/**
 * COPY and ADD → one FileOp of copy actions (BuildKit's dispatchCopy): sources from the build
 * context, another stage, an image, a URL (ADD), a git repository (ADD) or a heredoc (a mkfile op);
 * `--link` → the copy lands on scratch and is merged on top (MergeOp). Context sources are recorded
 * in the context's followpaths so only they are transferred and hashed.
 */
import { posix } from 'node:path';
import { FileActions } from '../../../llb/file-actions.js';
import type { CopyOptions } from '../../../llb/file-actions.js';
import { joinRoot, resolvePath } from '../../../llb/state-meta.js';
import { State } from '../../../llb/state.js';
import { parseChmod } from '../instructions/chmod.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import type { AddInstruction, CopyInstruction } from '../instructions/instruction.js';
import { commitHistory } from './image-config.js';
import { lineOf, site, uppercaseCmd } from './dispatch-context.js';
import type { DispatchContext } from './dispatch-context.js';
import { gitState, httpFilename, isHttpSource, parseGitSource } from './remote-source.js';
import type { StageState } from './stage-state.js';

/** An ADD --checksum value. */
const CHECKSUM = /^sha(256:[0-9a-f]{64}|384:[0-9a-f]{96}|512:[0-9a-f]{128})$/;

function containsWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') { i++; continue; }
    if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

export function dispatchCopy(s: StageState, ins: CopyInstruction | AddInstruction, d: DispatchContext, opts: { onbuild: boolean }): void {
  const isAdd = ins.kind === 'ADD';
  const at = site(d, ins);
  const env = s.envLookup();
  const word = (w: string): string => d.expander.word(w, env, at);
  const sources = ins.sources.map(word);
  const destRaw = word(ins.dest);
  const dest = resolvePath(s.state.getDir(), destRaw, { keepSlash: true });
  const chown = ins.chown === undefined ? undefined : word(ins.chown);
  const chmodRaw = ins.chmod === undefined ? undefined : word(ins.chmod);
  // --exclude patterns are taken literally (shell/expansion-rules.ts).
  const exclude = ins.exclude;
  const from = ins.kind === 'COPY' && ins.from !== undefined ? d.sourceOf(ins.from, ins, s) : undefined;

  let mode: number | undefined;
  let modeStr: string | undefined;
  if (chmodRaw !== undefined) {
    const c = parseChmod(chmodRaw);
    if ('error' in c) fail(Diagnostics.badChmod, [chmodRaw, c.error], at, '--chmod');
    if (c.kind === 'octal') mode = c.mode;
    else modeStr = c.expr;
  }
  // Every copy of the instruction gets one options object of one shape, built without spreads
  // (this runs for every source of every COPY/ADD).
  const owner = chown ? chown : undefined;
  const excludePatterns = exclude.length > 0 ? exclude : undefined;
  const options = (o: Pick<CopyOptions, 'followSymlink' | 'dirCopyContents' | 'attemptUnpackDockerCompatibility' | 'unpack' | 'allowWildcard' | 'allowEmptyWildcard' | 'includePatterns' | 'parents' | 'requiredPaths'>): CopyOptions => ({
    mode,
    modeStr,
    followSymlink: o.followSymlink,
    dirCopyContents: o.dirCopyContents,
    attemptUnpackDockerCompatibility: o.attemptUnpackDockerCompatibility,
    unpack: o.unpack,
    createDestPath: true,
    allowWildcard: o.allowWildcard,
    allowEmptyWildcard: o.allowEmptyWildcard,
    includePatterns: o.includePatterns,
    parents: o.parents,
    requiredPaths: o.requiredPaths,
    owner,
    excludePatterns,
    timestamp: d.epoch,
  });

  let checksum: string | undefined;
  if (ins.kind === 'ADD' && ins.checksum !== undefined) {
    checksum = word(ins.checksum);
    if (!CHECKSUM.test(checksum)) fail(Diagnostics.badFlag, [`invalid --checksum "${checksum}": expected sha256:<64 hex digits>`], at, '--checksum');
    if (sources.length !== 1 || ins.heredocSources.length > 0) fail(Diagnostics.badFlag, ['--checksum can\'t be specified for multiple sources'], at, '--checksum');
    if (!isHttpSource(sources[0] as string) && !parseGitSource(sources[0] as string)) fail(Diagnostics.badFlag, ['--checksum requires an HTTP(S) or Git source'], at, '--checksum');
  }

  const name = uppercaseCmd(d.expander.forDisplay(ins.original, env));
  const { description, step } = s.prefixed(name, { onbuild: opts.onbuild });
  const constraints = s.constraints(description, step, lineOf(ins));

  let chain: FileActions | undefined;
  const add = (src: State, path: string, o: CopyOptions): void => {
    chain = chain ? chain.copy(src, path, dest, o) : FileActions.copy(src, path, dest, o);
  };

  for (const src of sources) {
    const git = parseGitSource(src);
    if (git) {
      if (!isAdd) fail(Diagnostics.badSource, [`source can't be a git ref for COPY: ${src} (use ADD)`], at, src);
      const keep = ins.kind === 'ADD' ? ins.keepGitDir : undefined;
      if (keep !== undefined && git.keepGitDir !== undefined && keep !== git.keepGitDir) fail(Diagnostics.badSource, ['inconsistent keep-git-dir configuration'], at);
      add(gitState(git, { description, stage: s.metaStage, step, steps: s.cmdTotal }, { keepGitDir: keep, checksum }), '/', options({}));
    } else if (isHttpSource(src)) {
      if (!isAdd) fail(Diagnostics.badSource, [`source can't be a URL for COPY: ${src} (use ADD)`], at, src);
      const filename = httpFilename(src);
      const file = State.http(src, { filename, ...(checksum ? { checksum } : {}), constraints: { description, stage: s.metaStage, step, steps: s.cmdTotal } });
      // Remote archives are not unpacked unless --unpack=true says so.
      const unpack = ins.kind === 'ADD' ? ins.unpack : undefined;
      add(file, filename, options({ attemptUnpackDockerCompatibility: unpack === true, unpack }));
    } else {
      let path = src;
      let includePatterns: string[] | undefined;
      let requiredPaths: string[] | undefined;
      if (ins.kind === 'COPY' && ins.parents) {
        // `a/./b/c`: keep the path below the pivot `/./`; without one, keep it all.
        const pivot = src.indexOf('/./');
        const pattern = pivot < 0 ? src : src.slice(pivot + 3);
        path = pivot < 0 ? '/' : src.slice(0, pivot);
        const clean = posix.join('/', pattern).replace(/^\//, '');
        includePatterns = [clean];
        if (!containsWildcards(path) && !containsWildcards(pattern)) requiredPaths = [posix.join('/', path, pattern)];
      }
      const unpack = ins.kind === 'ADD' ? ins.unpack ?? true : false;
      const abs = joinRoot(path);
      add(from ? from.state : d.context, abs, options({
        followSymlink: true,
        dirCopyContents: true,
        attemptUnpackDockerCompatibility: unpack,
        unpack: ins.kind === 'ADD' ? ins.unpack : undefined,
        allowWildcard: true,
        allowEmptyWildcard: true,
        includePatterns,
        parents: includePatterns ? true : undefined,
        requiredPaths,
      }));
      if (!from) d.ctxPaths.add(path === src ? abs : joinRoot(src));
    }
  }

  for (const h of ins.heredocSources) {
    const data = h.expand ? d.expander.heredoc(h.data, env, at) : h.data;
    const doc = State.scratch().platform(s.platform).file(FileActions.mkfile(h.path, 0o644, data), { description: '[internal] preparing inline document' });
    add(doc, h.path, options({}));
  }
  if (!chain) return;
  if (ins.link) {
    // The copy is made on an empty filesystem and layered on top: it does not depend on (and is not
    // invalidated by) what is below it.
    s.cmdIndex--;
    const link = s.prefixed(`LINK ${name}`, { onbuild: opts.onbuild });
    const copied = State.scratch().platform(s.platform).file(chain, constraints);
    s.state = State.merge([s.state, copied], s.constraints(link.description, link.step, lineOf(ins)));
  } else {
    s.state = s.state.file(chain, constraints);
  }
  if (!s.keepsHistory) return;
  let msg = isAdd ? 'ADD' : 'COPY';
  if (ins.kind === 'COPY' && ins.parents) msg += ' --parents';
  if (chown) msg += ` --chown=${chown}`;
  if (chmodRaw) msg += ` --chmod=${chmodRaw}`;
  for (const src of sources) msg += ` ${src}`;
  for (const h of ins.heredocSources) msg += ` <<${h.path}`;
  msg += ` ${destRaw}`;
  commitHistory(s.image, msg, { layer: true, withState: true, epoch: d.epoch });
}
