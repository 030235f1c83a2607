/**
 * Writes the outputs a daemon streams back (Solve OutputChunks) at their client-side destinations:
 * an archive (`oci`, `docker`, `tar`) to its `dest` file, a `local` output (sent as a tar) unpacked
 * into its `dest` directory, a `dest=-` output into the call's stdout sink.
 */
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { TsbuildError } from '../util/errors.js';
import type { ByteSink, OutputSpec } from './types.js';

interface Open {
  readonly stream: Writable;
  /** Settles when the bytes are on disk (the file closed, the tar unpacked). */
  readonly done: Promise<void>;
}

async function writeTo(stream: Writable, chunk: Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()));
}

export class OutputWriter {
  readonly #outputs: readonly OutputSpec[];
  readonly #stdout: ByteSink | undefined;
  readonly #signal: AbortSignal;
  readonly #open = new Map<number, Open>();

  constructor(outputs: readonly OutputSpec[], stdout: ByteSink | undefined, signal: AbortSignal) {
    this.#outputs = outputs;
    this.#stdout = stdout;
    this.#signal = signal;
  }

  async chunk(index: number, data: Uint8Array, eof: boolean): Promise<void> {
    const spec = this.#outputs[index];
    const dest = spec?.attrs['dest'];
    if (!spec || dest === undefined) throw new TsbuildError('SOLVE_PROTOCOL', `Solve: the daemon sent bytes for output ${index}, which has no client-side destination`);
    if (dest === '-') {
      if (!this.#stdout) throw new TsbuildError('OUTPUT_NO_STDOUT', `output ${spec.type} has dest=- but nothing takes standard output`);
      if (data.length > 0) await this.#stdout.write(data);
      return;
    }
    let o = this.#open.get(index);
    if (!o) {
      o = await this.#start(spec.type, resolve(dest));
      this.#open.set(index, o);
    }
    if (data.length > 0) await writeTo(o.stream, data);
    if (eof) {
      o.stream.end();
      await o.done;
    }
  }

  async #start(type: string, dest: string): Promise<Open> {
    if (type === 'local') {
      // Loaded only for a `type=local` output: tar parsing costs every build's start-up otherwise.
      const { extractTar } = await import('../util/tar-extract.js');
      const pt = new PassThrough();
      return { stream: pt, done: extractTar(pt, dest, this.#signal) };
    }
    await fsp.mkdir(dirname(dest), { recursive: true });
    const ws: WriteStream = createWriteStream(dest);
    return { stream: ws, done: finished(ws) };
  }

  /** Closes what is still open (a failed build), waiting for it to settle. */
  async close(): Promise<void> {
    for (const o of this.#open.values()) o.stream.destroy();
    await Promise.allSettled([...this.#open.values()].map((o) => o.done));
  }
}
