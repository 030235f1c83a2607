/**
 * A Client behind a JSON "wire": every request and answer, every progress and transfer event, and
 * every error goes through JSON.stringify/parse on its way, errors as the contract's WireError
 * (toWireError → JSON → fromWireError). Only what a transport carries as a stream is handed over
 * as is: the signal, the byte source, the secret lookup and the output sink. Running the contract
 * suite through it proves the contract is data and errors print the same after crossing a wire —
 * the same obligations the gRPC client has.
 */
import type { Client } from '../../src/client/types.js';
import { fromWireError, toWireError } from '../../src/client/wire-error.js';

function viaJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

type Listener = (event: unknown) => void;

/** The call options as a transport would carry them: events are re-encoded on the way back. */
function wireOptions(opts: Record<string, unknown>): Record<string, unknown> {
  const onProgress = opts['onProgress'] as Listener | undefined;
  return { ...opts, ...(onProgress ? { onProgress: (e: unknown) => onProgress(viaJson(e)) } : {}) };
}

export function overJsonWire(inner: Client): Client {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'close') return () => target.close();
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        // Every method takes its request(s) first and the call options last.
        const data = args.slice(0, -1).map(viaJson);
        const opts = wireOptions(args[args.length - 1] as Record<string, unknown>);
        let answer: unknown;
        try {
          answer = await method.apply(target, [...data, opts]);
        } catch (e) {
          throw fromWireError(viaJson(toWireError(e)));
        }
        return viaJson(answer);
      };
    },
  });
}
