/**
 * Which ignore file applies to a build, as BuildKit decides: `<Dockerfile>.dockerignore` next to the
 * Dockerfile (e.g. `docker/app.Dockerfile.dockerignore`) wins; otherwise `.dockerignore` at the
 * context root; otherwise nothing is ignored. An empty file still wins (it ignores nothing). Patterns
 * are validated here, so a bad line fails the build up front with the file and line in the message.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { errorMessage, isTsbuildError, throwIfAborted, UserInputError } from '../util/errors.js';
import { PatternMatcher, readIgnoreFileEntries } from '../util/pattern-matcher/index.js';
import type { IgnoreEntry } from '../util/pattern-matcher/index.js';

export interface LoadDockerignoreOptions {
  /** The build context directory. */
  readonly contextDir: string;
  /** The Dockerfile on disk; omit when it does not come from a file (`-f -`). */
  readonly dockerfilePath?: string;
  /** The ignore file's text, known already ('' for none): no file is read; it stands for the one next to the Dockerfile. */
  readonly text?: string;
  readonly signal?: AbortSignal;
}

export interface Dockerignore {
  /** Absolute path of the ignore file used, or undefined when there is none. */
  readonly file: string | undefined;
  /** Normalised patterns in file order (`!` exceptions included); empty when there is no file. */
  readonly patterns: string[];
}

async function readIfPresent(path: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throwIfAborted(signal);
    throw new UserInputError('DOCKERIGNORE', `failed reading ${basename(path)}: ${errorMessage(e)}`, {
      cause: e,
      location: { file: path, line: 1, column: 1 },
    });
  }
}

function parse(path: string, text: string): string[] {
  const name = basename(path);
  let entries: IgnoreEntry[];
  try {
    entries = readIgnoreFileEntries(text);
  } catch (e) {
    throw new UserInputError('DOCKERIGNORE', `failed parsing ${name}: ${errorMessage(e)}`, { cause: e, location: { file: path, line: 1, column: 1 } });
  }
  for (const entry of entries) {
    try {
      for (const p of new PatternMatcher([entry.pattern]).patterns) p.check();
    } catch (e) {
      if (!isTsbuildError(e)) throw e;
      throw new UserInputError('DOCKERIGNORE', `failed parsing ${name}: ${e.message}`, {
        cause: e,
        location: { file: path, line: entry.line, column: 1 },
        sourceLine: text.split('\n')[entry.line - 1]?.replace(/\r$/, '') ?? entry.pattern,
      });
    }
  }
  return entries.map((e) => e.pattern);
}

/** Finds and reads the ignore file for a build. Throws UserInputError (code DOCKERIGNORE) for a bad file. */
export async function loadDockerignore(opts: LoadDockerignoreOptions): Promise<Dockerignore> {
  throwIfAborted(opts.signal);
  if (opts.text !== undefined) {
    const file = opts.dockerfilePath !== undefined ? `${resolve(opts.dockerfilePath)}.dockerignore` : join(resolve(opts.contextDir), '.dockerignore');
    return { file, patterns: parse(file, opts.text) };
  }
  const candidates: string[] = [];
  if (opts.dockerfilePath !== undefined) candidates.push(`${resolve(opts.dockerfilePath)}.dockerignore`);
  candidates.push(join(resolve(opts.contextDir), '.dockerignore'));
  for (const file of candidates) {
    const text = await readIfPresent(file, opts.signal);
    if (text !== undefined) return { file, patterns: parse(file, text) };
  }
  return { file: undefined, patterns: [] };
}
