/**
 * The command's standard streams in the shapes the client contract takes: standard output as a
 * ByteSink (for `dest=-` outputs), standard input as a byte source (for `image load -` and
 * `image import -`).
 */
import type { Readable } from 'node:stream';
import type { ByteSink } from '../../src/client/types.js';

/** Writes each chunk to `out`; a write is taken once the stream has flushed it (backpressure). */
export function byteSink(out: NodeJS.WritableStream): ByteSink {
  return {
    write: (chunk) => new Promise<void>((resolve, reject) => {
      out.write(chunk, (e?: Error | null) => (e ? reject(e) : resolve()));
    }),
  };
}

/**
 * Standard input as bytes. When the reader stops early (a load that fails half way), `return()`
 * closes standard input at once: a Node stream's own iterator would wait for the next chunk first,
 * and a pipe that stays open would then keep the command from ending.
 */
export function stdinBytes(stdin: NodeJS.ReadableStream): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      // Without setEncoding (never called on the CLI's stdin) a Node stream yields Buffers.
      const it = (stdin as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      return {
        next: () => it.next(),
        return: async () => {
          (stdin as Partial<Readable>).destroy?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
