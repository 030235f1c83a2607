/**
 * SourceOp identifiers and attribute keys (proto/llb.proto `SourceOp.attrs`). List-valued attributes
 * are JSON arrays of strings. Workers read these names from here rather than spelling them out.
 */

export const SourceScheme = {
  image: 'docker-image://',
  local: 'local://',
  git: 'git://',
  http: 'http://',
  https: 'https://',
} as const;

export const LocalAttr = {
  sharedKeyHint: 'local.sharedkeyhint',
  includePatterns: 'local.includepatterns',
  excludePatterns: 'local.excludepatterns',
  followPaths: 'local.followpaths',
} as const;

export const HttpAttr = {
  checksum: 'http.checksum',
  filename: 'http.filename',
  perm: 'http.perm',
  uid: 'http.uid',
  gid: 'http.gid',
} as const;

export const GitAttr = {
  fullUrl: 'git.fullurl',
  ref: 'git.ref',
  subdir: 'git.subdir',
  keepGitDir: 'git.keepgitdir',
  checksum: 'git.checksum',
} as const;

export const ImageAttr = {
  resolveMode: 'image.resolvemode',
  recordType: 'image.recordtype',
} as const;

/** Parses a JSON-array attribute value; [] when absent. Throws on a malformed value. */
export function listAttr(attrs: readonly { key?: string | null; value?: string | null }[], key: string): string[] {
  const a = attrs.find((x) => x.key === key);
  if (!a || !a.value) return [];
  const v: unknown = JSON.parse(a.value);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`attribute ${key} is not a JSON array of strings`);
  return v as string[];
}

/** A single attribute value, or undefined. */
export function attr(attrs: readonly { key?: string | null; value?: string | null }[], key: string): string | undefined {
  const a = attrs.find((x) => x.key === key);
  return a?.value ?? undefined;
}
