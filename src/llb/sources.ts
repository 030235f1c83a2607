/**
 * SourceOp constructors: container images, local directories (the build context), HTTP(S) files and
 * git repositories. Identifiers are normalized so that one source always has one digest.
 */
import { canonicalAttrs } from './canonical.js';
import { OpNode, type OpBody } from './op-node.js';
import { normalizeImageRef } from '../oci/reference.js';
import { GitAttr, HttpAttr, ImageAttr, LocalAttr, SourceScheme } from './source-attrs.js';
import type { LLBPlatform, OpConstraints } from './types.js';

type Attrs = Record<string, string>;

/** The SourceOp body: attrs without empty values, in canonical order (sorted by key). */
function sourceBody(identifier: string, attrs: Attrs): OpBody {
  return {
    source: {
      identifier,
      attrs: canonicalAttrs(Object.entries(attrs).filter(([, v]) => v !== '').map(([key, value]) => ({ key, value }))) as { key: string; value: string }[],
    },
  };
}

/**
 * A source op. Fixed attrs are encoded when the node is made, like exec and file bodies (the
 * closure and attrs object of a lazy body lived until marshalling, and every marshal built and
 * sorted the attrs again); a function is called per marshal (the build context's followpaths).
 */
function sourceNode(identifier: string, attrs: Attrs | (() => Attrs), platform: LLBPlatform | undefined, constraints: OpConstraints | undefined): OpNode {
  return new OpNode({
    inputs: [],
    body: typeof attrs === 'function' ? () => sourceBody(identifier, attrs()) : sourceBody(identifier, attrs),
    outputs: 1,
    platform,
    constraints,
  });
}

export interface ImageSourceOptions {
  readonly platform?: LLBPlatform;
  readonly resolveMode?: 'default' | 'pull' | 'local';
  readonly constraints?: OpConstraints;
}

/** `docker-image://docker.io/library/alpine:latest`. Throws InvalidReferenceError. */
export function imageSource(ref: string, opts: ImageSourceOptions = {}): OpNode {
  const id = `${SourceScheme.image}${normalizeImageRef(ref)}`;
  const attrs: Attrs = {};
  if (opts.resolveMode && opts.resolveMode !== 'default') attrs[ImageAttr.resolveMode] = opts.resolveMode;
  return sourceNode(id, attrs, opts.platform, opts.constraints);
}

export interface LocalSourceOptions {
  /** Only these paths (patterns allowed) of the directory are used; [] = everything. */
  readonly followPaths?: readonly string[];
  readonly includePatterns?: readonly string[];
  /** .dockerignore patterns. */
  readonly excludePatterns?: readonly string[];
  /** Key under which the worker may share transfer state between builds (default: the name). */
  readonly sharedKeyHint?: string;
}

const jsonList = (xs: readonly string[] | undefined): string => (xs && xs.length > 0 ? JSON.stringify(xs) : '');

/**
 * `local://NAME`. `opts` may be a function: it is called when the graph is marshalled, so the
 * followpaths can be the union of every COPY that was added to the graph in the meantime.
 */
export function localSource(name: string, opts: LocalSourceOptions | (() => LocalSourceOptions) = {}, constraints?: OpConstraints): OpNode {
  const get = typeof opts === 'function' ? opts : () => opts;
  return sourceNode(`${SourceScheme.local}${name}`, () => {
    const o = get();
    return {
      [LocalAttr.sharedKeyHint]: o.sharedKeyHint ?? name,
      [LocalAttr.followPaths]: jsonList(o.followPaths),
      [LocalAttr.includePatterns]: jsonList(o.includePatterns),
      [LocalAttr.excludePatterns]: jsonList(o.excludePatterns),
    };
  }, undefined, constraints);
}

export interface HttpSourceOptions {
  /** `sha256:<hex>`: the download must match. */
  readonly checksum?: string;
  /** Name of the file in the source's output (default: last URL path element). */
  readonly filename?: string;
  readonly perm?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly constraints?: OpConstraints;
}

export function httpSource(url: string, opts: HttpSourceOptions = {}): OpNode {
  const attrs: Attrs = {
    [HttpAttr.checksum]: opts.checksum ?? '',
    [HttpAttr.filename]: opts.filename ?? '',
    [HttpAttr.perm]: opts.perm !== undefined ? opts.perm.toString(8).padStart(4, '0') : '',
    [HttpAttr.uid]: opts.uid !== undefined ? String(opts.uid) : '',
    [HttpAttr.gid]: opts.gid !== undefined ? String(opts.gid) : '',
  };
  return sourceNode(url, attrs, undefined, opts.constraints);
}

export interface GitSourceOptions {
  /** Branch, tag or commit; "" = the remote's default branch. */
  readonly ref?: string;
  readonly subdir?: string;
  readonly keepGitDir?: boolean;
  readonly checksum?: string;
  readonly constraints?: OpConstraints;
}

/**
 * The identifier is `git://HOST/PATH` whatever the transport (BuildKit's form), so https and ssh
 * spellings of one repository share an identifier; `git.fullurl` keeps the remote as written.
 */
export function gitIdentifier(remote: string): string {
  let rest = remote;
  const scp = /^([\w.-]+@)?([\w.-]+):(?!\/\/)(.*)$/.exec(remote);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) {
    rest = `${scp[2] ?? ''}/${scp[3] ?? ''}`;
  } else {
    rest = remote.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^[^@/]*@/, '');
  }
  return `${SourceScheme.git}${rest.replace(/\/+$/, '')}`;
}

export function gitSource(remote: string, opts: GitSourceOptions = {}): OpNode {
  const attrs: Attrs = {
    [GitAttr.fullUrl]: remote,
    [GitAttr.ref]: opts.ref ?? '',
    [GitAttr.subdir]: opts.subdir ?? '',
    [GitAttr.keepGitDir]: opts.keepGitDir ? 'true' : '',
    [GitAttr.checksum]: opts.checksum ?? '',
  };
  return sourceNode(gitIdentifier(remote), attrs, undefined, opts.constraints);
}
