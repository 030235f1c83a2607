/**
 * `--build-context NAME=DIR` through tsbuildd, the daemon's half (the client's:
 * src/client/solve-named-context.ts). A directory context names a path on the client, which the
 * daemon never opens: after the context (and a local cache's files), before the build starts, it
 * asks for each such directory in turn and unpacks the tar that comes back into the build's
 * scratch, which the build then reads instead. `--max-context-size` bounds each one.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRequest } from '../client/types.js';
import type { tsbuild } from '../client/gen/control.js';
import { abortable } from '../solver/abortable.js';
import { contextValueKind } from '../util/build-context-value.js';
import { extractTar } from '../util/tar-extract.js';
import { DaemonErrors } from './errors.js';
import { SolveContextErrors } from './solve-context-errors.js';
import type { SolveInbox } from './solve-inbox.js';

type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;
type BuildStart = tsbuild.control.v1.BuildStart.$Properties;

/** A directory context: the client sends its absolute path. */
const isDirectory = (value: string): boolean => contextValueKind(value) === 'path';

/** Whether the build names a directory context (it is received before the build starts). */
export function hasDirectoryContexts(start: BuildStart): boolean {
  return Object.values(start.namedContexts ?? {}).some(isDirectory);
}

/** `req` with each directory context received into `scratch` and named by its path there. */
export async function receiveNamedContexts(
  req: BuildRequest, inbox: SolveInbox, post: (m: SolveResponse) => void, scratch: string, maxBytes: number, signal: AbortSignal,
): Promise<BuildRequest> {
  const given = req.namedContexts;
  if (given === undefined || !Object.values(given).some(isDirectory)) return req;
  const out: Record<string, string> = { ...given };
  let n = 0;
  for (const [name, value] of Object.entries(given)) {
    if (!isDirectory(value)) continue;
    const dir = join(scratch, 'named-contexts', String(n++));
    await mkdir(dir, { recursive: true });
    post({ files: { id: 100 + n, namedContext: { name } } });
    let bytes = 0;
    await extractTar((async function* () {
      for (;;) {
        const m = await abortable(inbox.next(), signal);
        const chunk = m?.namedContextTar;
        if (!chunk) throw SolveContextErrors.protocol('expected named_context_tar chunks after files.named_context');
        bytes += chunk.data?.length ?? 0;
        if (maxBytes > 0 && bytes > maxBytes) throw DaemonErrors.contextTooLarge(maxBytes);
        if (chunk.data?.length) yield chunk.data;
        if (chunk.eof) return;
      }
    })(), dir, signal);
    out[name] = dir;
  }
  return { ...req, namedContexts: out };
}
