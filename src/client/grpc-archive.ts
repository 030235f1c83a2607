/**
 * The archive a Load or Import call streams to tsbuildd, opened on the client where it is: a file,
 * the call's `input` for `-`, or (import only) a directory tarred here the way the engine tars one.
 * Opening fails with the engine's own errors (util/archive-source-errors.ts), so a missing file
 * prints the same whichever client ran the command. Chunks are at most CHUNK bytes (well under the
 * daemon's message limit).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { ArchiveSourceErrors } from '../util/archive-source-errors.js';
import { tarDirectory } from '../util/tar-directory.js';

const CHUNK = 1024 * 1024;

/** Splits large chunks (an `input` may hand over anything) into message-sized pieces. */
async function* sized(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    for (let at = 0; at < c.length; at += CHUNK) yield c.subarray(at, Math.min(c.length, at + CHUNK));
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/** Opens the checked source when the call starts sending; `signal` stops reading (the call ended). */
export type ArchiveOpener = (signal: AbortSignal) => AsyncIterable<Uint8Array>;

/** Checks an `image load` source now (the engine's errors for a missing input, file or a directory); opens it later. */
export async function loadSource(source: string, input: AsyncIterable<Uint8Array> | undefined): Promise<ArchiveOpener> {
  if (source === '-') {
    if (!input) throw ArchiveSourceErrors.loadNoStdin();
    return () => sized(input);
  }
  const st = await statOrUndefined(source);
  if (!st) throw ArchiveSourceErrors.loadMissing(source);
  if (st.isDirectory()) throw ArchiveSourceErrors.loadDirectory(source);
  return (signal) => sized(createReadStream(source, { highWaterMark: CHUNK, signal }));
}

/** Checks an `image import` source now (a tarball, `-`, or a directory, sent as a tar); opens it later. */
export async function importSource(source: string, input: AsyncIterable<Uint8Array> | undefined): Promise<ArchiveOpener> {
  if (source === '-') {
    if (!input) throw ArchiveSourceErrors.importNoStdin();
    return () => sized(input);
  }
  const st = await statOrUndefined(source);
  if (!st) throw ArchiveSourceErrors.importMissing(source);
  return (signal) => sized(st.isDirectory() ? tarDirectory(source, signal) : createReadStream(source, { highWaterMark: CHUNK, signal }));
}
