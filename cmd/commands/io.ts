/**
 * The command's standard streams in the shapes the client contract takes: standard output as a
 * ByteSink (for `dest=-` outputs), standard input as a byte source (for `image load -` and
 * `image import -`).
 */
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
 * Standard input as bytes. The stream itself is handed over (not a copy), so a reader that stops
 * early (a load that fails half way) ends the iteration and with it closes the pipe.
 */
export function stdinBytes(stdin: NodeJS.ReadableStream): AsyncIterable<Uint8Array> {
  // Without setEncoding (never called on the CLI's stdin) a Node stream yields Buffers.
  return stdin as AsyncIterable<Uint8Array>;
}
