/**
 * `--build-context NAME=DIR` through tsbuildd, the client's half: the daemon asks for each such
 * directory (FilesRequest.named_context) after the context and before the build starts, and gets
 * it as one tar stream (named_context_tar), holding only what the directory's own `.dockerignore`
 * leaves, as BuildKit reads a named local context. Only a directory this build named is sent.
 */
import { TsbuildError } from '../util/errors.js';
import { readIgnoreFile, walkContext } from '../util/pattern-matcher/index.js';
import { tarDirectory } from '../util/tar-directory.js';
import type { tsbuild } from './gen/control.js';
import { readDockerignore } from './solve-context-listing.js';

type SolveRequest = tsbuild.control.v1.SolveRequest.$Properties;

/** Sends the directory of context `name` (a path of `contexts`) as named_context_tar chunks, then `eof`. */
export async function serveNamedContext(
  write: (m: SolveRequest) => Promise<void>, name: string, contexts: Readonly<Record<string, string>> | undefined, signal: AbortSignal,
): Promise<void> {
  const dir = contexts !== undefined && Object.hasOwn(contexts, name) ? contexts[name] : undefined;
  if (dir === undefined || !dir.startsWith('/')) {
    throw new TsbuildError('SOLVE_PROTOCOL', `Solve: named_context ${JSON.stringify(name)} is not a directory --build-context of this build`);
  }
  const paths = ['.'];
  const excludes = readIgnoreFile(readDockerignore(dir, undefined)?.toString('utf8'));
  for await (const e of walkContext(dir, { excludes, signal })) paths.push(e.path);
  for await (const data of tarDirectory(dir, signal, { paths })) await write({ namedContextTar: { data: data as Buffer } });
  await write({ namedContextTar: { eof: true } });
}
