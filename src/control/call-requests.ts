/**
 * The requests of a streaming call, read one at a time as the handler asks for them (grpc-js keeps
 * its flow control: a message is taken off the stream only when asked for). Not the stream's own
 * async iterator: that one destroys the whole call when it ends in an error, and calls.ts ends a
 * failed call by emitting 'error' on it (grpc-js then sends the status once the responses still
 * being written are out). A read still pending then — Solve's inbox always has one once the build
 * runs — woke up, failed, and destroyed the call before its status went out: the client waited for
 * the end of the call forever whenever a response (a progress message) was still being written
 * as the handler failed. This reader never destroys the call; when it fails (the call ended in an
 * error, or closed before the client's half-close) it only reports so.
 */
import type { Readable } from 'node:stream';
import { CancelledError } from '../util/errors.js';

export function callRequests<T>(call: Readable): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => new RequestReader<T>(call) };
}

class RequestReader<T> implements AsyncIterator<T> {
  readonly #call: Readable;
  #ended = false;
  #failure: { readonly error: unknown } | undefined;
  #wake: (() => void) | undefined;
  /** Reads are served in the order they were asked for. */
  #tail: Promise<unknown> = Promise.resolve();
  readonly #onReadable = (): void => this.#notify();
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#notify();
  };
  readonly #onError = (e: unknown): void => this.#fail(e);
  readonly #onClose = (): void => {
    if (!this.#ended) this.#fail(new CancelledError(new Error('the client cancelled the call')));
  };

  constructor(call: Readable) {
    this.#call = call;
    call.on('readable', this.#onReadable);
    call.on('end', this.#onEnd);
    call.on('error', this.#onError);
    call.on('close', this.#onClose);
  }

  next(): Promise<IteratorResult<T>> {
    const read = this.#tail.then(() => this.#read());
    this.#tail = read.catch(() => undefined);
    return read;
  }

  /** Stops reading (a `for await` left early); the call is left as it is. */
  return(): Promise<IteratorResult<T>> {
    this.#ended = true;
    this.#detach();
    this.#notify();
    return Promise.resolve({ done: true, value: undefined });
  }

  async #read(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#failure) throw this.#failure.error;
      const value = this.#ended ? null : (this.#call.read() as T | null);
      if (value !== null) return { done: false, value };
      if (this.#ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #fail(e: unknown): void {
    this.#failure ??= { error: e };
    this.#detach();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #detach(): void {
    this.#call.off('readable', this.#onReadable);
    this.#call.off('end', this.#onEnd);
    this.#call.off('close', this.#onClose);
    // 'error' stays handled: an 'error' without a listener would be thrown.
  }
}
