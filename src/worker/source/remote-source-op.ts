/**
 * From an LLB SourceOp (identifier + attrs, proto/llb.proto) to what the http and git sources need,
 * and the cache-key material of their results. Kept here so the solver-side op only wires.
 *
 * Identifiers: `http://…`/`https://…` are http sources; `git://…`, `git@host:path` and `ssh://…`
 * are git sources (attr `git.fullurl`, as BuildKit writes it, wins as the remote).
 * Attrs (names from src/llb/source-attrs.ts): http.checksum, http.filename, http.perm (octal
 * text), http.uid, http.gid; git.fullurl, git.ref, git.subdir, git.keepgitdir, git.checksum.
 */
import { createHash } from 'node:crypto';
import { GitAttr, HttpAttr } from '../../llb/source-attrs.js';
import { TsbuildError } from '../../util/errors.js';

export type RemoteSourceSpec =
  | {
      readonly kind: 'http';
      readonly url: string;
      readonly checksum: string | undefined;
      readonly filename: string | undefined;
      readonly perm: number | undefined;
      readonly uid: number | undefined;
      readonly gid: number | undefined;
    }
  | {
      readonly kind: 'git';
      readonly remote: string;
      readonly ref: string | undefined;
      readonly subdir: string | undefined;
      readonly keepGitDir: boolean;
      readonly checksum: string | undefined;
    };

export interface SourceOpLike {
  readonly identifier?: string | null;
  readonly attrs?: readonly { readonly key?: string | null; readonly value?: string | null }[] | null;
}

/** The spec of an http or git SourceOp; undefined for other schemes (image, local). */
export function parseRemoteSourceOp(op: SourceOpLike): RemoteSourceSpec | undefined {
  const id = op.identifier ?? '';
  const attrs = new Map<string, string>();
  for (const a of op.attrs ?? []) if (a.key) attrs.set(a.key, a.value ?? '');
  const int = (key: string, radix: number): number | undefined => {
    const v = attrs.get(key);
    if (v === undefined || v === '') return undefined;
    const n = parseInt(v, radix);
    if (!Number.isInteger(n) || n < 0) throw new TsbuildError('SOURCE_BAD_ATTR', `source ${id}: invalid ${key} "${v}"`);
    return n;
  };
  if (/^https?:\/\//.test(id)) {
    return {
      kind: 'http',
      url: id,
      checksum: attrs.get(HttpAttr.checksum) || undefined,
      filename: attrs.get(HttpAttr.filename) || undefined,
      perm: int(HttpAttr.perm, 8),
      uid: int(HttpAttr.uid, 10),
      gid: int(HttpAttr.gid, 10),
    };
  }
  if (/^(git:\/\/|git@|ssh:\/\/)/.test(id)) {
    const keep = attrs.get(GitAttr.keepGitDir);
    return {
      kind: 'git',
      remote: attrs.get(GitAttr.fullUrl) || id,
      ref: attrs.get(GitAttr.ref) || undefined,
      subdir: attrs.get(GitAttr.subdir) || undefined,
      keepGitDir: keep === 'true' || keep === '1',
      checksum: attrs.get(GitAttr.checksum) || undefined,
    };
  }
  return undefined;
}

/**
 * A stable digest of what a remote source's result depends on: the content digest (http) or commit
 * (git) plus the options that change the produced files. Two builds with equal material produce
 * identical files.
 */
export function remoteSourceCacheKey(spec: RemoteSourceSpec, resolved: { readonly digest?: string; readonly commit?: string }): string {
  const material =
    spec.kind === 'http'
      ? { kind: 'http', digest: resolved.digest, filename: spec.filename ?? null, perm: spec.perm ?? 0o600, uid: spec.uid ?? 0, gid: spec.gid ?? 0 }
      : { kind: 'git', commit: resolved.commit, subdir: spec.subdir ?? null, keepGitDir: spec.keepGitDir };
  return 'sha256:' + createHash('sha256').update(JSON.stringify(material)).digest('hex');
}
