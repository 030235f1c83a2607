/**
 * Errors across the seam. `toWireError` turns whatever an engine call threw into the contract's
 * plain WireError (code, message, location, source line, detail); `fromWireError` rebuilds the
 * Error class the CLI prints, so a Dockerfile error over gRPC prints exactly what the embedded
 * engine prints — `file:line:col: message`, the offending line and the caret — with the same exit
 * code. The daemon maps engine errors with the first; the gRPC client rebuilds them with the second.
 */
import { CancelledError, TsbuildError, UsageError, UserInputError, type TsbuildErrorOptions } from '../util/errors.js';
import type { WireError } from './types.js';

/** The code of errors that are not TsbuildErrors (bugs, or failures nobody classified). */
export const INTERNAL_ERROR_CODE = 'INTERNAL';

function kindOf(e: TsbuildError): WireError['kind'] {
  if (e instanceof UsageError) return 'usage';
  if (e instanceof CancelledError) return 'cancelled';
  if (e instanceof UserInputError) return 'user-input';
  return 'tsbuild';
}

export function toWireError(e: unknown): WireError {
  if (!(e instanceof TsbuildError)) {
    return { kind: 'internal', code: INTERNAL_ERROR_CODE, message: e instanceof Error ? e.message : String(e) };
  }
  return {
    kind: kindOf(e),
    code: e.code,
    message: e.message,
    ...(e.location ? { location: { ...e.location } } : {}),
    ...(e.sourceLine !== undefined ? { sourceLine: e.sourceLine } : {}),
    ...(e.detail.length > 0 ? { detail: [...e.detail] } : {}),
  };
}

export function fromWireError(w: WireError): Error {
  const opts: TsbuildErrorOptions = {
    ...(w.location ? { location: w.location } : {}),
    ...(w.sourceLine !== undefined ? { sourceLine: w.sourceLine } : {}),
    ...(w.detail ? { detail: w.detail } : {}),
  };
  switch (w.kind) {
    case 'usage':
      return new UsageError(w.message, opts);
    case 'cancelled': {
      const e = new CancelledError();
      // CancelledError words its message from the reason; keep the one that crossed the wire.
      e.message = w.message;
      return e;
    }
    case 'user-input':
      return new UserInputError(w.code, w.message, opts);
    case 'internal':
      return new Error(w.message);
    default:
      // 'tsbuild', and any kind a newer peer may send.
      return new TsbuildError(w.code, w.message, opts);
  }
}
