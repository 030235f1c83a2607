/**
 * RegistryError: every failure of the distribution client, with a stable code callers match on and
 * a message that names the reference (or repository) and what went wrong.
 */
import { TsbuildError } from '../util/errors.js';

export type RegistryErrorCode =
  /** Connection refused, DNS failure, TLS failure, timeout: the registry cannot be reached. */
  | 'REGISTRY_UNREACHABLE'
  /** 401: no or wrong credentials, or the token service refused them. */
  | 'REGISTRY_UNAUTHORIZED'
  /** 403: authenticated but not allowed. */
  | 'REGISTRY_DENIED'
  | 'MANIFEST_NOT_FOUND'
  | 'BLOB_NOT_FOUND'
  /** Content does not hash to the digest that named it (or is larger than its descriptor). */
  | 'DIGEST_MISMATCH'
  /** A blob ended before its descriptor's size, also after resuming. */
  | 'BLOB_TRUNCATED'
  /** Manifest/index is not JSON or lacks required fields. */
  | 'MANIFEST_INVALID'
  /** A media type tsbuild does not handle (e.g. Docker schema 1). */
  | 'MANIFEST_UNSUPPORTED'
  /** An index/manifest list has no entry for the requested platform. */
  | 'PLATFORM_NOT_FOUND'
  /** 5xx (or 429) still failing after the retries. */
  | 'REGISTRY_SERVER_ERROR'
  /** The registry answered something the protocol does not allow. */
  | 'REGISTRY_PROTOCOL'
  /** A docker-credential helper failed. */
  | 'CREDENTIAL_HELPER'
  /** ~/.docker/config.json cannot be read or parsed. */
  | 'DOCKER_CONFIG_INVALID';

export interface RegistryErrorOptions {
  readonly cause?: unknown;
  /** HTTP status when the error came from a response. */
  readonly status?: number;
  /** The registry's own error codes from the response body (e.g. MANIFEST_UNKNOWN). */
  readonly registryCodes?: readonly string[];
  readonly detail?: readonly string[];
}

export class RegistryError extends TsbuildError {
  declare readonly code: RegistryErrorCode;
  readonly status: number | undefined;
  readonly registryCodes: readonly string[];

  constructor(code: RegistryErrorCode, message: string, opts: RegistryErrorOptions = {}) {
    super(code, message, {
      ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
      ...(opts.detail !== undefined ? { detail: opts.detail } : {}),
    });
    this.name = 'RegistryError';
    this.status = opts.status;
    this.registryCodes = opts.registryCodes ?? [];
  }
}

export function isRegistryError(e: unknown, code?: RegistryErrorCode): e is RegistryError {
  return e instanceof RegistryError && (code === undefined || e.code === code);
}

/** The `errors` array of a registry error body (OCI distribution spec), or [] when absent. */
export function parseErrorBody(body: string): { code: string; message: string }[] {
  try {
    const v = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(v.errors)) return [];
    return v.errors.flatMap((e: unknown) => {
      if (!e || typeof e !== 'object') return [];
      const o = e as Record<string, unknown>;
      return [{ code: typeof o['code'] === 'string' ? o['code'] : '', message: typeof o['message'] === 'string' ? o['message'] : '' }];
    });
  } catch {
    return [];
  }
}

/** `HTTP 404 MANIFEST_UNKNOWN: manifest unknown` style summary of a failed response. */
export function describeStatus(status: number, body: string): string {
  const errs = parseErrorBody(body);
  const parts = errs.map((e) => [e.code, e.message].filter(Boolean).join(': ')).filter(Boolean);
  if (parts.length) return `HTTP ${status} ${parts.join('; ')}`;
  const text = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  return text ? `HTTP ${status}: ${text}` : `HTTP ${status}`;
}
