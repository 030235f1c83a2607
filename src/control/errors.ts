/**
 * The one place where domain errors become gRPC statuses (the client turns them back with
 * src/client/grpc-errors.ts). The status code comes from the error's stable `code` (the table
 * below), else from its class: bad input is INVALID_ARGUMENT, a cancellation CANCELLED, anything
 * else INTERNAL. The trailer `tsbuild-error-bin` carries the whole error (ErrorDetail), so a client
 * rebuilds the same typed error with its location and source line.
 *
 * Also the daemon's own errors, as a catalog with stable codes.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { tsbuild } from '../client/gen/control.js';
import { ERROR_DETAIL_KEY } from '../client/grpc-errors.js';
import { CancelledError, TsbuildError, UsageError, UserInputError } from '../util/errors.js';

const pb = tsbuild.control.v1;
type ErrorDetail = tsbuild.control.v1.ErrorDetail.$Properties;

/** Errors the daemon raises itself (auth, limits, shutdown, not yet implemented). */
export const DaemonErrors = {
  unauthenticated: (why: string) => new TsbuildError('UNAUTHENTICATED', why),
  permissionDenied: (method: string, who: string) =>
    new TsbuildError('PERMISSION_DENIED', `${method} needs the admin role; ${who} has read-only access`),
  notImplemented: (method: string) =>
    new TsbuildError('NOT_IMPLEMENTED', `${method} is not implemented by this tsbuildd yet`),
  tooManyBuilds: (who: string, limit: number) =>
    new TsbuildError('TOO_MANY_BUILDS', `${who} already runs ${limit} build${limit === 1 ? '' : 's'} (--max-builds-per-client); wait for one to finish`),
  contextTooLarge: (limit: number) => new UserInputError('CONTEXT_TOO_LARGE', `the build context is larger than this daemon accepts (--max-context-size ${limit} bytes)`),
  shuttingDown: () => new TsbuildError('SHUTTING_DOWN', 'tsbuildd is shutting down; retry against a running daemon'),
  entitlementNotAllowed: (entitlement: string, why: string) =>
    new TsbuildError('ENTITLEMENT_NOT_ALLOWED', `${entitlement} is not allowed by this tsbuildd (${why}); start it with --allow-insecure-entitlement ${entitlement}`),
  protocol: (why: string) => new TsbuildError('CALL_PROTOCOL', why),
  buildNotFound: (ref: string) => new TsbuildError('BUILD_NOT_FOUND', `no running build has ref ${JSON.stringify(ref)}`),
} as const;

/** gRPC status by domain error code, where the class default does not fit. */
const STATUS_BY_CODE: Readonly<Record<string, Status>> = {
  CANCELLED: Status.CANCELLED,
  UNAUTHENTICATED: Status.UNAUTHENTICATED,
  PERMISSION_DENIED: Status.PERMISSION_DENIED,
  INSECURE_NOT_ALLOWED: Status.PERMISSION_DENIED,
  NETWORK_HOST_NOT_ALLOWED: Status.PERMISSION_DENIED,
  ENTITLEMENT_NOT_ALLOWED: Status.PERMISSION_DENIED,
  NOT_IMPLEMENTED: Status.UNIMPLEMENTED,
  TOO_MANY_BUILDS: Status.RESOURCE_EXHAUSTED,
  CONTEXT_TOO_LARGE: Status.RESOURCE_EXHAUSTED,
  SHUTTING_DOWN: Status.UNAVAILABLE,
  REGISTRY_UNREACHABLE: Status.UNAVAILABLE,
  HTTP_FETCH_FAILED: Status.UNAVAILABLE,
  CALL_PROTOCOL: Status.INVALID_ARGUMENT,
  BUILD_NOT_FOUND: Status.NOT_FOUND,
  BUILD_REF_IN_USE: Status.ALREADY_EXISTS,
  HEALTH_SERVICE_UNKNOWN: Status.NOT_FOUND,
  IMAGE_NOT_FOUND: Status.NOT_FOUND,
  IMAGE_BLOB_MISSING: Status.NOT_FOUND,
  BLOB_NOT_FOUND: Status.NOT_FOUND,
  CACHE_NOT_FOUND: Status.NOT_FOUND,
  CONTEXT_NOT_FOUND: Status.NOT_FOUND,
  CONTEXT_PATH_NOT_FOUND: Status.NOT_FOUND,
  DOCKERFILE_NOT_FOUND: Status.NOT_FOUND,
  GIT_REF_NOT_FOUND: Status.NOT_FOUND,
  MANIFEST_NOT_FOUND: Status.NOT_FOUND,
  PLATFORM_NOT_FOUND: Status.NOT_FOUND,
  IMAGE_AMBIGUOUS: Status.FAILED_PRECONDITION,
  IMAGE_CONFLICT: Status.FAILED_PRECONDITION,
  PREFLIGHT_NOT_ROOT: Status.FAILED_PRECONDITION,
  PREFLIGHT_NO_OVERLAY: Status.FAILED_PRECONDITION,
  PREFLIGHT_NO_RUNC: Status.FAILED_PRECONDITION,
  RUNC_NOT_FOUND: Status.FAILED_PRECONDITION,
  METADATA_SCHEMA_TOO_NEW: Status.FAILED_PRECONDITION,
  REGISTRY_UNAUTHORIZED: Status.FAILED_PRECONDITION,
  CACHE_MOUNT_IN_USE: Status.ABORTED,
  CACHE_RECORD_CONTENTION: Status.ABORTED,
  FLOCK_FAILED: Status.ABORTED,
  BLOB_CORRUPT: Status.DATA_LOSS,
  BLOB_DIGEST_MISMATCH: Status.DATA_LOSS,
  BLOB_SIZE_MISMATCH: Status.DATA_LOSS,
};

/** The gRPC status code for a domain error. */
export function statusCodeOf(e: TsbuildError): Status {
  const byCode = STATUS_BY_CODE[e.code];
  if (byCode !== undefined) return byCode;
  if (e instanceof CancelledError) return Status.CANCELLED;
  if (e instanceof UserInputError || e instanceof UsageError) return Status.INVALID_ARGUMENT;
  return Status.INTERNAL;
}

function kindOf(e: TsbuildError): tsbuild.control.v1.ErrorKind {
  if (e instanceof CancelledError) return pb.ErrorKind.ERROR_KIND_CANCELLED;
  if (e instanceof UsageError) return pb.ErrorKind.ERROR_KIND_USAGE;
  if (e instanceof UserInputError) return pb.ErrorKind.ERROR_KIND_USER_INPUT;
  return pb.ErrorKind.ERROR_KIND_INTERNAL;
}

/** Any thrown value as a TsbuildError (unexpected ones become INTERNAL, keeping their message). */
export function asTsbuildError(e: unknown): TsbuildError {
  if (e instanceof TsbuildError) return e;
  return new TsbuildError('INTERNAL', `internal error: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** The wire form of an error: what the trailer and SolveResponse.error carry. */
export function errorDetailOf(e: TsbuildError): ErrorDetail {
  const l = e.location;
  return {
    code: e.code,
    message: e.message,
    kind: kindOf(e),
    ...(l ? { location: { file: l.file, line: l.line, column: l.column, endLine: l.endLine ?? 0 } } : {}),
    ...(e.sourceLine !== undefined ? { sourceLine: e.sourceLine } : {}),
    detail: [...e.detail],
  };
}

/** The status a failed call ends with: code, one-line details (`file:line:col: message`), the detail trailer. */
export function statusOf(thrown: unknown): StatusObject {
  const e = asTsbuildError(thrown);
  const metadata = new Metadata();
  metadata.set(ERROR_DETAIL_KEY, Buffer.from(pb.ErrorDetail.encode(errorDetailOf(e)).finish()));
  return { code: statusCodeOf(e), details: e.describe(), metadata };
}
