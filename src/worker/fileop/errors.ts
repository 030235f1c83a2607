/**
 * The errors file operations raise, as typed data: each has a stable code callers match on and one
 * message builder, so wording lives in one place. User-fixable problems (a missing source, an
 * unknown user, a bad chmod string) are UserInputErrors carrying the instruction's location; host
 * failures are TsbuildErrors with the system error as cause.
 */
import { TsbuildError, UserInputError, type SourceLocation } from '../../util/errors.js';

const userDiagnostics = {
  FILEOP_SOURCE_NOT_FOUND: (p: string) => `source "${p}" not found: lstat ${p}: no such file or directory`,
  FILEOP_SOURCE_EXCLUDED: (p: string) => `source "${p}" not found: it is excluded by .dockerignore`,
  FILEOP_NO_MATCH: (p: string) => `no source files were specified: "${p}" matched nothing`,
  FILEOP_BAD_PATTERN: (p: string, why: string) => `invalid pattern "${p}": ${why}`,
  FILEOP_DEST_NOT_DIR: (p: string) => `destination "${p}" must be a directory (copying several sources or a wildcard), but it is a file`,
  FILEOP_NOT_A_DIRECTORY: (p: string) => `cannot copy to non-directory: ${p}`,
  FILEOP_REPLACE_DIR_WITH_FILE: (p: string) => `cannot replace directory ${p} with a file`,
  FILEOP_DEST_PARENT_MISSING: (p: string) => `destination parent of "${p}" does not exist`,
  FILEOP_UNKNOWN_USER: (name: string, why: string) => `unable to find user ${name}: ${why}`,
  FILEOP_UNKNOWN_GROUP: (name: string, why: string) => `unable to find group ${name}: ${why}`,
  FILEOP_BAD_CHOWN: (spec: string) => `invalid --chown value "${spec}": expected user, user:group, uid or uid:gid`,
  FILEOP_BAD_CHMOD: (spec: string) => `invalid --chmod value "${spec}": expected octal bits (0755) or symbolic mode (u=rwX,go=rX)`,
  FILEOP_PATH_NOT_FOUND: (p: string) => `${p}: no such file or directory`,
  FILEOP_PATH_EXISTS: (p: string) => `${p}: file exists`,
  FILEOP_IS_A_DIRECTORY: (p: string) => `${p}: is a directory`,
  FILEOP_PARENT_NOT_DIR: (p: string) => `${p} exists and is not a directory`,
  FILEOP_SYMLINK_LOOP: (p: string) => `${p}: too many levels of symbolic links`,
  FILEOP_ARCHIVE_ESCAPE: (archive: string, entry: string) => `archive ${archive}: entry "${entry}" is outside the extraction root`,
  FILEOP_ARCHIVE_CORRUPT: (archive: string, why: string) => `archive ${archive}: ${why}`,
  FILEOP_BAD_PATH: (p: string, why: string) => `invalid path "${p}": ${why}`,
} as const;

export type FileOpUserErrorCode = keyof typeof userDiagnostics;

/** A user-fixable file operation error with a stable code and (when known) the instruction's location. */
export function fileOpUserError<C extends FileOpUserErrorCode>(
  code: C,
  args: Parameters<(typeof userDiagnostics)[C]>,
  opts: { readonly location?: SourceLocation | undefined; readonly cause?: unknown } = {},
): UserInputError {
  const build = userDiagnostics[code] as (...a: readonly string[]) => string;
  return new UserInputError(code, build(...args), {
    ...(opts.location ? { location: opts.location } : {}),
    ...(opts.cause === undefined ? {} : { cause: opts.cause }),
  });
}

/** A host failure (I/O error, missing tool); `what` says which operation failed. */
export function fileOpIoError(what: string, cause: unknown): TsbuildError {
  if (cause instanceof TsbuildError) return cause;
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new TsbuildError('FILEOP_IO', `${what}: ${msg}`, { cause });
}

/** The errno code of a Node system error, if any. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}

export function isNotFound(e: unknown): boolean {
  const c = errnoCode(e);
  return c === 'ENOENT' || c === 'ENOTDIR';
}
