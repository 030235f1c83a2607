/**
 * The one place every call passes through on its way to a handler: authorization (auth.ts),
 * registration with the running calls (in-flight.ts, for graceful shutdown), an AbortSignal that
 * fires when the client cancels or the daemon gives up waiting, and the error → status mapping
 * (errors.ts). Handlers are plain async functions over decoded requests (types.ts); this file turns
 * them into @grpc/grpc-js handlers. Foreign services (server reflection) are wrapped for
 * authorization only.
 */
import type {
  Metadata, ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream, sendUnaryData, UntypedHandleCall, UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { CancelledError } from '../util/errors.js';
import type { Authorizer, CallerInfo } from './auth.js';
import { callRequests } from './call-requests.js';
import { statusOf } from './errors.js';
import type { InFlightCalls } from './in-flight.js';
import type { BidiStreamHandler, CallContext, ClientStreamHandler, ServerStreamHandler, ServiceHandlers, UnaryHandler } from './types.js';

export interface CallDeps {
  readonly authorizer: Authorizer;
  readonly inFlight: InFlightCalls;
}

interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** What grpc-js calls of every kind share. */
interface AnyCall {
  readonly metadata: Metadata;
  getPeer(): string;
  getAuthContext?(): { readonly sslPeerCertificate?: { readonly subject?: { readonly CN?: string | string[] } } };
  on(event: 'cancelled', listener: () => void): unknown;
}

function callerInfo(call: AnyCall, method: string): CallerInfo {
  const auth = call.metadata.get('authorization')[0];
  const cn = call.getAuthContext?.().sslPeerCertificate?.subject?.CN;
  const peer = call.getPeer();
  return {
    method,
    authorization: typeof auth === 'string' ? auth : undefined,
    certificateName: Array.isArray(cn) ? cn[0] : cn || undefined,
    // grpc-js names unix-socket peers by the socket path (or "unknown"); only tcp peers are host:port.
    peer: /^(\[[0-9a-f:.]+\]|[0-9.]+):\d+$/i.test(peer) ? peer : undefined,
  };
}

/**
 * Authorizes and registers a call, runs `body` with its context, and always unregisters it.
 * Throws (before `body`) when the caller may not call the method or the daemon is draining.
 */
async function runCall(deps: CallDeps, call: AnyCall, method: string, body: (ctx: CallContext) => Promise<void>): Promise<void> {
  const caller = callerInfo(call, method);
  const principal = deps.authorizer.authorize(caller);
  const tracked = deps.inFlight.begin();
  const gone = new AbortController();
  try {
    call.on('cancelled', () => gone.abort(new CancelledError(new Error('the client cancelled the call'))));
    await body({ principal, signal: AbortSignal.any([tracked.signal, gone.signal]), clientGone: gone.signal, stopping: tracked.signal, local: caller.peer === undefined });
  } finally {
    tracked.end();
  }
}

/**
 * A `send` that resolves when grpc-js has taken the message (flow control), or rejects once aborted
 * — also while its write is still held: grpc-js calls a cancelled call's held write back as if it
 * had been delivered (1.14, call-requests.test.ts), or not at all when the stream is already gone.
 */
function sender<Res>(call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>, signal: AbortSignal): (m: Res) => Promise<void> {
  const cancelled = (): CancelledError => (signal.reason instanceof CancelledError ? signal.reason : new CancelledError(signal.reason));
  // One abort listener for all the writes still held (a listener per write would pile up on the signal).
  const held = new Set<(e: Error) => void>();
  signal.addEventListener('abort', () => {
    const e = cancelled();
    for (const reject of held) reject(e);
    held.clear();
  }, { once: true });
  return (m) => new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(cancelled());
      return;
    }
    held.add(reject);
    call.write(m, (err?: Error | null) => {
      held.delete(reject);
      if (err) reject(err);
      else resolve();
    });
  });
}

function unary<Req, Res>(deps: CallDeps, path: string, h: UnaryHandler<Req, Res>): UntypedHandleCall {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    let response: Res | undefined;
    runCall(deps, call, path, async (ctx) => {
      response = await h(call.request, ctx);
    }).then(
      () => callback(null, response),
      (e: unknown) => callback(statusOf(e)),
    );
  };
}

function serverStream<Req, Res>(deps: CallDeps, path: string, h: ServerStreamHandler<Req, Res>): UntypedHandleCall {
  return (call: ServerWritableStream<Req, Res>) => {
    runCall(deps, call, path, (ctx) => h(call.request, sender(call, ctx.signal), ctx)).then(
      () => call.end(),
      (e: unknown) => call.emit('error', statusOf(e)),
    );
  };
}

function clientStream<Req, Res>(deps: CallDeps, path: string, h: ClientStreamHandler<Req, Res>): UntypedHandleCall {
  return (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>) => {
    let response: Res | undefined;
    runCall(deps, call, path, async (ctx) => {
      response = await h(call as AsyncIterable<Req>, ctx);
    }).then(
      () => callback(null, response),
      (e: unknown) => callback(statusOf(e)),
    );
  };
}

function bidiStream<Req, Res>(deps: CallDeps, path: string, h: BidiStreamHandler<Req, Res>): UntypedHandleCall {
  return (call: ServerDuplexStream<Req, Res>) => {
    // Not the stream's own async iterator: it destroys the whole duplex when it ends in an error,
    // and a read pending as the handler fails then takes the status with it (call-requests.ts).
    const requests = callRequests<Req>(call);
    runCall(deps, call, path, (ctx) => h(requests, sender(call, ctx.signal), ctx)).then(
      () => call.end(),
      (e: unknown) => call.emit('error', statusOf(e)),
    );
  };
}

/** grpc-js handlers for a generated service object and its typed handlers. */
export function adaptService<S extends Record<string, MethodShape>>(service: S, handlers: ServiceHandlers<S>, deps: CallDeps): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const name of Object.keys(service) as (keyof S & string)[]) {
    const m = service[name] as MethodShape;
    const h = handlers[name] as unknown;
    if (m.requestStream && m.responseStream) impl[name] = bidiStream(deps, m.path, h as BidiStreamHandler<unknown, unknown>);
    else if (m.responseStream) impl[name] = serverStream(deps, m.path, h as ServerStreamHandler<unknown, unknown>);
    else if (!m.requestStream) impl[name] = unary(deps, m.path, h as UnaryHandler<unknown, unknown>);
    else impl[name] = clientStream(deps, m.path, h as ClientStreamHandler<unknown, unknown>);
  }
  return impl;
}

/**
 * Wraps a service implemented elsewhere (server reflection): each call is authorized first; it is
 * not tracked as a running call (shutdown ends such streams with the server).
 */
export function guardForeignService(service: Readonly<Record<string, MethodShape>>, impl: UntypedServiceImplementation, deps: CallDeps): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [name, m] of Object.entries(service)) {
    const inner = impl[name] as (call: AnyCall & { emit(e: 'error', s: unknown): void }, cb?: (e: unknown) => void) => void;
    out[name] = ((call: AnyCall & { emit(e: 'error', s: unknown): void }, callback?: (e: unknown) => void) => {
      try {
        deps.authorizer.authorize(callerInfo(call, m.path));
      } catch (e) {
        if (callback) callback(statusOf(e));
        else call.emit('error', statusOf(e));
        return;
      }
      inner(call, callback);
    }) as UntypedHandleCall;
  }
  return out;
}
