/**
 * Outputs whose destination is on the client (Solve): the daemon points them at a scratch file,
 * lets the engine write there, then streams the file back as OutputChunks tagged with the output's
 * index. Archives (`oci`, `docker`, `tar`) travel as they are; a `local` directory is built as a
 * `tar` output and the client unpacks it at its dest. `dest=-` goes through the engine's stdout
 * sink straight into chunks. Image and registry outputs stay in the daemon and need nothing here.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { ByteSink, OutputSpec } from '../client/types.js';
import type { tsbuild } from '../client/gen/control.js';

type OutputChunk = tsbuild.control.v1.OutputChunk.$Properties;

const FILE_OUTPUTS = new Set(['oci', 'docker', 'tar', 'local']);
const CHUNK = 1024 * 1024;

export interface OutputPlan {
  /** The outputs as the engine gets them (client destinations replaced by scratch files). */
  readonly outputs: OutputSpec[];
  /** Scratch files to stream back after the build, by output index. */
  readonly files: readonly { readonly index: number; readonly path: string }[];
  /** The output written to `dest=-`, if any. */
  readonly stdoutIndex?: number;
}

export function planOutputs(outputs: readonly OutputSpec[], scratch: string): OutputPlan {
  const files: { index: number; path: string }[] = [];
  let stdoutIndex: number | undefined;
  const planned = outputs.map((o, index): OutputSpec => {
    const dest = o.attrs['dest'];
    if (!FILE_OUTPUTS.has(o.type) || dest === undefined) return o;
    if (dest === '-') {
      stdoutIndex = index;
      return o;
    }
    const path = join(scratch, `output-${index}`);
    files.push({ index, path });
    return { type: o.type === 'local' ? 'tar' : o.type, attrs: { ...o.attrs, dest: path } };
  });
  return { outputs: planned, files, ...(stdoutIndex !== undefined ? { stdoutIndex } : {}) };
}

/** The engine's stdout sink for a `dest=-` output: each write becomes a chunk. */
export function stdoutSink(index: number, send: (c: OutputChunk) => Promise<void>): ByteSink {
  return { write: (chunk) => send({ outputIndex: index, data: chunk, eof: false }) };
}

/** Streams the scratch files, each ending with an eof chunk, then the stdout output's eof. */
export async function streamOutputs(plan: OutputPlan, send: (c: OutputChunk) => Promise<void>, signal: AbortSignal): Promise<void> {
  for (const f of plan.files) {
    for await (const chunk of createReadStream(f.path, { highWaterMark: CHUNK, signal })) {
      await send({ outputIndex: f.index, data: chunk as Buffer, eof: false });
    }
    await send({ outputIndex: f.index, data: new Uint8Array(), eof: true });
  }
  if (plan.stdoutIndex !== undefined) await send({ outputIndex: plan.stdoutIndex, data: new Uint8Array(), eof: true });
}
