/**
 * The client half of the error mapping (the daemon half is src/control/errors.ts): a failed call's
 * status becomes the same typed error the embedded engine would have thrown. The daemon puts an
 * ErrorDetail (code, message, kind, location, source line, detail lines) in the trailer
 * `tsbuild-error-bin`; a status without it (a transport failure, a foreign server, a limit grpc-js
 * enforces) is named after its gRPC status so callers still get a stable code. It reads the status
 * of either transport: the CLI's own (h2/status.ts) and @grpc/grpc-js's ServiceError (tests, tools).
 */
import { tsbuild } from './gen/control.js';
import { GRPC_STATUS, statusName } from './h2/status-codes.js';
import { CancelledError, TsbuildError, UsageError, UserInputError } from '../util/errors.js';
import type { SourceLocation } from '../util/errors.js';

const pb = tsbuild.control.v1;
type ErrorDetail = tsbuild.control.v1.ErrorDetail.$Properties;

/** The binary trailer key carrying an encoded tsbuild.control.v1.ErrorDetail. */
export const ERROR_DETAIL_KEY = 'tsbuild-error-bin';

/** Codes for statuses that arrive without an ErrorDetail, by gRPC status. */
const CODE_BY_STATUS: Readonly<Partial<Record<number, string>>> = {
  [GRPC_STATUS.UNAVAILABLE]: 'DAEMON_UNAVAILABLE',
  [GRPC_STATUS.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [GRPC_STATUS.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [GRPC_STATUS.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [GRPC_STATUS.UNIMPLEMENTED]: 'NOT_IMPLEMENTED',
  [GRPC_STATUS.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
};

/** What a status's metadata offers here: the values of a key (grpc-js Metadata, h2 ResponseMetadata). */
export interface StatusMetadata {
  get(key: string): unknown[];
}

/** A failed call's status: code, details and trailers. */
export interface StatusLike {
  readonly code: number;
  readonly details?: string;
  readonly metadata?: StatusMetadata | null;
}

/** The ErrorDetail a status carries, if any. */
export function errorDetailOf(metadata: StatusMetadata | null | undefined): ErrorDetail | undefined {
  const raw = metadata?.get(ERROR_DETAIL_KEY)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    return pb.ErrorDetail.decode(raw);
  } catch {
    return undefined;
  }
}

function locationOf(d: ErrorDetail): SourceLocation | undefined {
  const l = d.location;
  if (!l?.file) return undefined;
  return { file: l.file, line: l.line ?? 0, column: l.column ?? 0, ...(l.endLine ? { endLine: l.endLine } : {}) };
}

/** Rebuilds the typed error an ErrorDetail describes. */
export function errorFromDetail(d: ErrorDetail): TsbuildError {
  const code = d.code || 'INTERNAL';
  const message = d.message ?? '';
  const location = locationOf(d);
  const opts = {
    ...(location ? { location } : {}),
    ...(d.sourceLine ? { sourceLine: d.sourceLine } : {}),
    ...(d.detail?.length ? { detail: d.detail } : {}),
  };
  switch (d.kind ?? pb.ErrorKind.ERROR_KIND_INTERNAL) {
    case pb.ErrorKind.ERROR_KIND_USER_INPUT:
      return new UserInputError(code, message, opts);
    case pb.ErrorKind.ERROR_KIND_USAGE:
      return new UsageError(message, opts);
    case pb.ErrorKind.ERROR_KIND_CANCELLED: {
      const reason = message.replace(/^cancelled(: )?/, '');
      return reason ? new CancelledError(new Error(reason)) : new CancelledError();
    }
    default:
      return new TsbuildError(code, message, opts);
  }
}

/**
 * The typed error for a failed call (a grpc-js ServiceError or any StatusObject-like value);
 * anything else is returned as it is.
 */
export function errorFromStatus(e: unknown): unknown {
  if (typeof e !== 'object' || e === null || typeof (e as { code?: unknown }).code !== 'number') return e;
  const s = e as StatusLike;
  const detail = errorDetailOf(s.metadata);
  if (detail) return errorFromDetail(detail);
  const details = s.details || statusName(s.code) || 'unknown error';
  if (s.code === GRPC_STATUS.CANCELLED) return new CancelledError(new Error(details));
  const code = CODE_BY_STATUS[s.code] ?? `GRPC_${statusName(s.code) ?? s.code}`;
  const message = s.code === GRPC_STATUS.UNAVAILABLE ? `cannot reach tsbuildd: ${details}` : details;
  return new TsbuildError(code, message, { cause: e });
}
