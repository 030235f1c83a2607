/** Reading small response bodies (manifests, tokens, error documents) into memory, bounded. */
import type { Readable } from 'node:stream';
import { TsbuildError } from '../util/errors.js';
import { TransportError } from './transport.js';

/**
 * All bytes of `stream`, failing with `tooBig` once more than `limit` arrive (so a hostile or
 * broken registry cannot make us buffer without end).
 */
export async function readAll(stream: Readable, limit: number, tooBig: () => Error = () => new Error(`response larger than ${limit} bytes`)): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  let own: Error | undefined;
  try {
    for await (const c of stream) {
      const b = c as Buffer;
      n += b.length;
      if (n > limit) {
        own = tooBig();
        stream.destroy();
        throw own;
      }
      chunks.push(b);
    }
  } catch (e) {
    if (e === own || e instanceof TransportError || e instanceof TsbuildError || !(e instanceof Error)) throw e;
    // A connection that breaks mid-body: the caller may retry.
    throw new TransportError(e.message, (e as NodeJS.ErrnoException).code ?? 'ECONNRESET', 'response', e);
  }
  return Buffer.concat(chunks);
}

/** The body as text for error messages: at most 64 KiB, never throws. */
export async function readErrorText(stream: Readable): Promise<string> {
  try {
    return (await readAll(stream, 64 * 1024)).toString('utf8');
  } catch {
    stream.destroy();
    return '';
  }
}

/** Discards a body so the connection can be reused. */
export function drain(stream: Readable): void {
  stream.resume();
  stream.on('error', () => undefined);
}
