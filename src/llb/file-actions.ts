/**
 * FileOp construction. `FileActions` is an immutable chain (BuildKit's `llb.Mkdir(...).Copy(...)`):
 * each action applies to the result of the previous one, the first to the state `file()` is called
 * on. Relative paths resolve against that state's working directory (copy sources against the
 * source state's), when `file()` is called.
 */
import { tsbuild } from './gen/llb.js';
import { InputList, OpNode } from './op-node.js';
import { resolvePath } from './state-meta.js';
import { chownOpt } from './chown.js';
import type { StateLike } from './state-meta.js';
import type { CopyFlags, OpConstraints } from './types.js';

export interface OwnedOptions {
  /** `user[:group]`; names are resolved against the destination's /etc/passwd and /etc/group. */
  readonly owner?: string | undefined;
  /** Unix seconds; default: now (mkdir/mkfile/symlink) or keep source times (copy). */
  readonly timestamp?: number | undefined;
}

export interface MkdirOptions extends OwnedOptions {
  readonly makeParents?: boolean;
}

export interface RmOptions {
  readonly allowNotFound?: boolean;
  readonly allowWildcard?: boolean;
}

/** The copy flags (src/llb/types.ts; absent, `undefined` and null mean the proto3 default) and an owner. */
export interface CopyOptions extends CopyFlags, OwnedOptions {
  /** Unix seconds; default: keep the source times. */
  readonly timestamp?: number | undefined;
}

type Action =
  | { readonly kind: 'mkdir'; readonly path: string; readonly mode: number; readonly opts: MkdirOptions }
  | { readonly kind: 'mkfile'; readonly path: string; readonly mode: number; readonly data: Uint8Array; readonly opts: OwnedOptions }
  | { readonly kind: 'rm'; readonly path: string; readonly opts: RmOptions }
  | { readonly kind: 'symlink'; readonly oldpath: string; readonly newpath: string; readonly opts: OwnedOptions }
  | { readonly kind: 'copy'; readonly source: StateLike; readonly src: string; readonly dest: string; readonly opts: CopyOptions };

export class FileActions {
  private constructor(readonly actions: readonly Action[]) {}

  /** The chain of no actions the static constructors start from (immutable, shared). */
  private static readonly EMPTY = new FileActions([]);

  static mkdir(path: string, mode: number, opts: MkdirOptions = {}): FileActions {
    return FileActions.EMPTY.mkdir(path, mode, opts);
  }

  static mkfile(path: string, mode: number, data: Uint8Array | string, opts: OwnedOptions = {}): FileActions {
    return FileActions.EMPTY.mkfile(path, mode, data, opts);
  }

  static rm(path: string, opts: RmOptions = {}): FileActions {
    return FileActions.EMPTY.rm(path, opts);
  }

  static symlink(oldpath: string, newpath: string, opts: OwnedOptions = {}): FileActions {
    return FileActions.EMPTY.symlink(oldpath, newpath, opts);
  }

  static copy(source: StateLike, src: string, dest: string, opts: CopyOptions = {}): FileActions {
    return FileActions.EMPTY.copy(source, src, dest, opts);
  }

  mkdir(path: string, mode: number, opts: MkdirOptions = {}): FileActions {
    return this.then({ kind: 'mkdir', path, mode, opts });
  }

  /** This chain with `a` after it; a first action without a spread of the empty list (per step). */
  private then(a: Action): FileActions {
    return new FileActions(this.actions.length === 0 ? [a] : [...this.actions, a]);
  }

  mkfile(path: string, mode: number, data: Uint8Array | string, opts: OwnedOptions = {}): FileActions {
    // Buffer.from takes small results from Node's pool (TextEncoder allocated a backing store
    // outside the heap per file, ~1 µs); both write a lone surrogate as U+FFFD.
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.then({ kind: 'mkfile', path, mode, data: bytes, opts });
  }

  rm(path: string, opts: RmOptions = {}): FileActions {
    return this.then({ kind: 'rm', path, opts });
  }

  symlink(oldpath: string, newpath: string, opts: OwnedOptions = {}): FileActions {
    return this.then({ kind: 'symlink', oldpath, newpath, opts });
  }

  copy(source: StateLike, src: string, dest: string, opts: CopyOptions = {}): FileActions {
    return this.then({ kind: 'copy', source, src, dest, opts });
  }
}

/**
 * Sets `owner` on an action message when `spec` names one. Assigned after the literal rather than
 * spread into it: a spread makes V8 build the (large, per COPY) literal property by property.
 */
function withOwner<T extends { owner?: tsbuild.llb.ChownOpt.$Properties | null }>(m: T, spec: string | undefined, input: number): T {
  const o = spec === undefined ? undefined : chownOpt(spec, input);
  if (o) m.owner = o;
  return m;
}

/** Shared empty pattern list: the body is encoded when the node is made, so lists are not copied. */
const NO_PATTERNS: string[] = [];

/** Builds the FileOp node that applies `chain` to `base`. */
export function buildFileNode(base: StateLike, chain: FileActions, constraints: OpConstraints | undefined): OpNode {
  const actions = chain.actions;
  if (actions.length === 0) throw new Error('file: no actions');
  const cwd = base.meta.cwd;
  const inputs = new InputList();
  const baseIdx = inputs.add(base.output);
  // Every copy source becomes an input before action results are numbered (len(inputs) + k).
  for (const a of actions) if (a.kind === 'copy') inputs.add(a.source.output);
  const nIn = inputs.size;
  const pb: tsbuild.llb.FileAction.$Properties[] = actions.map((a, k) => {
    const input = k === 0 ? baseIdx : nIn + k - 1;
    const out: tsbuild.llb.FileAction.$Properties = { input, secondaryInput: -1, output: k === actions.length - 1 ? 0 : -1 };
    switch (a.kind) {
      case 'mkdir':
        out.mkdir = withOwner<tsbuild.llb.FileActionMkDir.$Properties>({ path: resolvePath(cwd, a.path), mode: a.mode, makeParents: a.opts.makeParents ?? false, timestamp: a.opts.timestamp ?? -1 }, a.opts.owner, input);
        break;
      case 'mkfile':
        out.mkfile = withOwner<tsbuild.llb.FileActionMkFile.$Properties>({ path: resolvePath(cwd, a.path), mode: a.mode, data: a.data, timestamp: a.opts.timestamp ?? -1 }, a.opts.owner, input);
        break;
      case 'rm':
        out.rm = { path: resolvePath(cwd, a.path), allowNotFound: a.opts.allowNotFound ?? false, allowWildcard: a.opts.allowWildcard ?? false };
        break;
      case 'symlink':
        out.symlink = withOwner<tsbuild.llb.FileActionSymlink.$Properties>({ oldpath: a.oldpath, newpath: resolvePath(cwd, a.newpath), timestamp: a.opts.timestamp ?? -1 }, a.opts.owner, input);
        break;
      case 'copy': {
        const o = a.opts;
        out.secondaryInput = inputs.add(a.source.output);
        out.copy = withOwner<tsbuild.llb.FileActionCopy.$Properties>({
          src: resolvePath(a.source.meta.cwd, a.src, { keepSlash: false }),
          dest: resolvePath(cwd, a.dest, { keepSlash: true }),
          mode: o.mode ?? -1,
          modeStr: o.modeStr ?? '',
          followSymlink: o.followSymlink ?? false,
          dirCopyContents: o.dirCopyContents ?? false,
          attemptUnpackDockerCompatibility: o.attemptUnpackDockerCompatibility ?? false,
          createDestPath: o.createDestPath ?? false,
          allowWildcard: o.allowWildcard ?? false,
          allowEmptyWildcard: o.allowEmptyWildcard ?? false,
          timestamp: o.timestamp ?? -1,
          includePatterns: (o.includePatterns ?? NO_PATTERNS) as string[],
          excludePatterns: (o.excludePatterns ?? NO_PATTERNS) as string[],
          alwaysReplaceExistingDestPaths: o.alwaysReplaceExistingDestPaths ?? false,
          parents: o.parents ?? false,
          unpackSet: o.unpackSet ?? (o.unpack !== undefined && o.unpack !== null),
          unpack: o.unpack ?? false,
          requiredPaths: (o.requiredPaths ?? NO_PATTERNS) as string[],
        }, o.owner, input);
        break;
      }
    }
    return out;
  });
  const file: tsbuild.llb.FileOp.$Properties = { actions: pb };
  return new OpNode({
    inputs: inputs.outputs(),
    body: { file },
    outputs: 1,
    platform: base.meta.platform,
    constraints,
  });
}
