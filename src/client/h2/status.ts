/**
 * A call's outcome as the gRPC-over-HTTP/2 spec defines it: `grpc-status`, `grpc-message`
 * (percent-encoded) and custom metadata in the trailers (or in the headers of a trailers-only
 * answer); a non-200 HTTP status or an RST_STREAM without trailers maps to a status as the spec
 * says. The failed call's error has the shape of a @grpc/grpc-js ServiceError (`code`, `details`,
 * `metadata`, message `14 UNAVAILABLE: …`), so grpc-errors.ts maps both the same way and a
 * daemon's typed error (the `tsbuild-error-bin` trailer) arrives as the same typed error.
 */
import { GRPC_STATUS, statusName } from './status-codes.js';

/**
 * Response headers or trailers as node:http2 gives them (and the client's own stream, stream.ts):
 * `:status` a number, a repeated name an array of its values.
 */
export type ResponseHeaders = Readonly<Record<string, string | string[] | number | undefined>>;

/** Custom metadata of a response: `-bin` keys hold Buffers (base64 on the wire), others strings. */
export class ResponseMetadata {
  readonly #values = new Map<string, Array<string | Buffer>>();

  /** The values of `key` (lower case), in order; empty when absent. */
  get(key: string): Array<string | Buffer> {
    return this.#values.get(key.toLowerCase()) ?? [];
  }

  /** Custom keys only: HTTP/2 pseudo-headers and the transport's own headers are left out. */
  static from(headers: ResponseHeaders): ResponseMetadata {
    const md = new ResponseMetadata();
    for (const [key, raw] of Object.entries(headers)) {
      if (raw === undefined || key.startsWith(':') || RESERVED.has(key) || key.startsWith('grpc-')) continue;
      const values = Array.isArray(raw) ? raw : [String(raw)];
      const parsed = key.endsWith('-bin')
        ? values.flatMap((v) => v.split(',')).map((v) => Buffer.from(v.trim(), 'base64'))
        : values;
      md.#values.set(key, [...(md.#values.get(key) ?? []), ...parsed]);
    }
    return md;
  }
}

const RESERVED = new Set(['content-type', 'te', 'user-agent', 'content-length', 'date', 'trailer']);

/** A call's final status. */
export interface CallStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata: ResponseMetadata;
}

/** A failed call (code ≠ OK), shaped like grpc-js's ServiceError. */
export class GrpcStatusError extends Error implements CallStatus {
  override readonly name = 'GrpcStatusError';
  readonly code: number;
  readonly details: string;
  readonly metadata: ResponseMetadata;

  constructor(s: CallStatus) {
    super(`${s.code} ${statusName(s.code) ?? 'UNKNOWN'}: ${s.details}`);
    this.code = s.code;
    this.details = s.details;
    this.metadata = s.metadata;
  }
}

/** `grpc-message` is percent-encoded (RFC 3986 style); a malformed escape is kept as sent. */
export function decodeGrpcMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw.replace(/%[0-9A-Fa-f]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  }
}

/** The status in trailers (or trailers-only headers); undefined when `grpc-status` is absent. */
export function statusFromTrailers(headers: ResponseHeaders): CallStatus | undefined {
  const raw = headers['grpc-status'];
  if (raw === undefined) return undefined;
  const code = Number(Array.isArray(raw) ? raw[0] : raw);
  const message = headers['grpc-message'];
  return {
    code: Number.isInteger(code) && code >= 0 ? code : GRPC_STATUS.UNKNOWN,
    details: message === undefined ? '' : decodeGrpcMessage(Array.isArray(message) ? message.join(',') : String(message)),
    metadata: ResponseMetadata.from(headers),
  };
}

/** The status a non-gRPC answer implies (a proxy's 503, a server that is not gRPC). */
export function statusFromHttp(headers: ResponseHeaders): CallStatus | undefined {
  const http = Number(headers[':status'] ?? 200);
  const type = String(headers['content-type'] ?? '');
  if (http === 200 && type.startsWith('application/grpc')) return undefined;
  let code: number = GRPC_STATUS.UNKNOWN;
  if (http === 400) code = GRPC_STATUS.INTERNAL;
  else if (http === 401) code = GRPC_STATUS.UNAUTHENTICATED;
  else if (http === 403) code = GRPC_STATUS.PERMISSION_DENIED;
  else if (http === 404) code = GRPC_STATUS.UNIMPLEMENTED;
  else if (http === 429 || http === 502 || http === 503 || http === 504) code = GRPC_STATUS.UNAVAILABLE;
  const details = http === 200 ? `unexpected content-type "${type}"` : `received HTTP status ${http}`;
  return { code, details, metadata: new ResponseMetadata() };
}

/** HTTP/2 error codes (RFC 9113 §7) a stream may be reset with, as the gRPC spec maps them. */
export function statusFromReset(rstCode: number): CallStatus {
  const name = RST_NAMES[rstCode] ?? `code ${rstCode}`;
  let code: number = GRPC_STATUS.INTERNAL;
  if (rstCode === 0x7) code = GRPC_STATUS.UNAVAILABLE; // REFUSED_STREAM
  else if (rstCode === 0x8) code = GRPC_STATUS.CANCELLED; // CANCEL
  else if (rstCode === 0xb) code = GRPC_STATUS.RESOURCE_EXHAUSTED; // ENHANCE_YOUR_CALM
  else if (rstCode === 0xc) code = GRPC_STATUS.PERMISSION_DENIED; // INADEQUATE_SECURITY
  return { code, details: `stream reset by the server (${name})`, metadata: new ResponseMetadata() };
}

const RST_NAMES: Readonly<Record<number, string>> = {
  0x0: 'NO_ERROR', 0x1: 'PROTOCOL_ERROR', 0x2: 'INTERNAL_ERROR', 0x3: 'FLOW_CONTROL_ERROR', 0x5: 'STREAM_CLOSED',
  0x6: 'FRAME_SIZE_ERROR', 0x7: 'REFUSED_STREAM', 0x8: 'CANCEL', 0x9: 'COMPRESSION_ERROR', 0xa: 'CONNECT_ERROR',
  0xb: 'ENHANCE_YOUR_CALM', 0xc: 'INADEQUATE_SECURITY', 0xd: 'HTTP_1_1_REQUIRED',
};
