/**
 * The gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) as plain data,
 * so the client can name a status without loading @grpc/grpc-js (whose `status` enum holds the
 * same numbers; the daemon keeps using it). A string-literal union, not an enum (STYLE.md).
 */

export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusName = keyof typeof GRPC_STATUS;

const NAMES: readonly GrpcStatusName[] = Object.keys(GRPC_STATUS) as GrpcStatusName[];

/** `UNAVAILABLE` for 14; undefined for a number that is no status. */
export function statusName(code: number): GrpcStatusName | undefined {
  return NAMES.find((n) => GRPC_STATUS[n] === code);
}
