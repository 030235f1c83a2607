/**
 * The three shapes of RPC the gRPC Client (grpc-client.ts) makes on its channel: unary,
 * server-streaming and client-streaming (Solve, bidirectional, is grpc-solve.ts). Each sends the
 * request, delivers what comes back (the one answer, or each message of a stream), turns a failed
 * status into the typed error the embedded engine throws (grpc-errors.ts), and cancels the RPC when
 * the call's AbortSignal fires — then failing with the signal's reason (CancelledError), not with
 * the CANCELLED status that follows.
 */
import type { H2Call } from './h2/call.js';
import type { H2Channel } from './h2/channel.js';
import { GRPC_STATUS } from './h2/status-codes.js';
import { GrpcStatusError, ResponseMetadata } from './h2/status.js';
import type { GrpcMethod } from './gen/control-grpc.js';
import { errorFromStatus } from './grpc-errors.js';
import { CancelledError } from '../util/errors.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Method<Req, Res> = GrpcMethod<Req, any, any, Res>;

/** The error of a call cancelled by `signal`. */
export function cancelled(signal: AbortSignal): CancelledError {
  return signal.reason instanceof CancelledError ? signal.reason : new CancelledError(signal.reason instanceof Error ? signal.reason : undefined);
}

/**
 * Calls `done` once with a unary or client-streaming call's one answer, or its failure (a
 * call that ends OK without exactly one message is an INTERNAL failure, as in grpc-js).
 */
function answerOf<Req, Res>(call: H2Call<Req, Res>, done: (err: Error | undefined, res?: Res) => void): void {
  let answer: { res: Res } | undefined;
  let extra = false;
  call.on('data', (res: Res) => {
    if (answer) extra = true;
    else answer = { res };
  });
  call.on('error', (err: Error) => done(err));
  call.on('end', () => {
    if (answer && !extra) done(undefined, answer.res);
    else done(new GrpcStatusError({ code: GRPC_STATUS.INTERNAL, details: answer ? 'Too many responses received' : 'No message received', metadata: new ResponseMetadata() }));
  });
}

/** A unary call: sends `req` and resolves with the one answer. */
export function unaryCall<Req, Res>(channel: H2Channel, m: Method<Req, Res>, req: Req, signal: AbortSignal): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const call = channel.call(m.path, m);
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    answerOf(call, (err, res) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(signal.aborted ? cancelled(signal) : errorFromStatus(err));
      else resolve(res as Res);
    });
    call.end(req);
  });
}

/**
 * A server-streaming call: sends `req` and hands each message to `onMessage`; resolves when the
 * stream ends OK. A throw from `onMessage` cancels the call and is what it fails with.
 */
export function serverStreamCall<Req, Res>(channel: H2Channel, m: Method<Req, Res>, req: Req, signal: AbortSignal, onMessage: (r: Res) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const call: H2Call<Req, Res> = channel.call(m.path, m);
    call.end(req);
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    let failed: unknown;
    call.on('data', (r: Res) => {
      try {
        onMessage(r);
      } catch (e) {
        failed ??= e;
        call.cancel();
      }
    });
    call.on('error', (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      reject(failed ?? (signal.aborted ? cancelled(signal) : errorFromStatus(err)));
    });
    call.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      if (failed) reject(failed);
      else resolve();
    });
  });
}

/**
 * A client-streaming call: sends `messages` (with flow control), half-closes, and resolves with
 * the answer. Stops reading `messages` as soon as the call ends, whichever way.
 */
export function clientStreamCall<Req, Res>(channel: H2Channel, m: Method<Req, Res>, messages: (signal: AbortSignal) => AsyncIterable<Req>, signal: AbortSignal): Promise<Res> {
  // Aborted when the call ends: stops reading the source (a file, a tar child, stdin).
  const local = new AbortController();
  return new Promise<Res>((resolve, reject) => {
    let failed: unknown;
    const call: H2Call<Req, Res> = channel.call(m.path, m);
    answerOf(call, (err, res) => {
      signal.removeEventListener('abort', onAbort);
      local.abort();
      if (failed !== undefined) reject(failed);
      else if (err) reject(signal.aborted ? cancelled(signal) : errorFromStatus(err));
      else resolve(res as Res);
    });
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    void (async () => {
      try {
        for await (const msg of messages(local.signal)) {
          if (local.signal.aborted) return;
          if (!call.write(msg)) {
            await new Promise<void>((r) => {
              const done = (): void => { call.off('drain', done); local.signal.removeEventListener('abort', done); r(); };
              call.once('drain', done);
              local.signal.addEventListener('abort', done, { once: true });
            });
          }
        }
        if (!local.signal.aborted) call.end();
      } catch (e) {
        if (local.signal.aborted) return;
        failed = e;
        call.cancel();
      }
    })();
  });
}
