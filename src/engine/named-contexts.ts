/**
 * A build's `--build-context NAME=VALUE` entries (buildx's named contexts) as the engine takes
 * them: `docker-image://REF` (an image; `scratch` the empty one), a Git or HTTP(S) URL, or the
 * absolute path of a directory (the client resolved it). A directory becomes a local source of the
 * build's session (`context:NAME`), read with its own `.dockerignore`, as BuildKit reads a named
 * local context; the frontend decides where each name is used (convert/named-contexts.ts).
 */
import { isAbsolute, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { NamedContext } from '../frontend/types.js';
import { loadDockerignore } from '../frontend/dockerignore.js';
import { familiarImageRef, normalizeImageRef } from '../oci/reference.js';
import { parsePlatform } from '../llb/platform.js';
import { UserInputError } from '../util/errors.js';
import { contextValueKind, DOCKER_IMAGE_PREFIX } from '../util/build-context-value.js';


/** The session's local source name for the directory of context `name`. */
export function namedLocalName(name: string): string {
  return `context:${name}`;
}

type Entry = { readonly kind: 'image'; readonly ref: string } | { readonly kind: 'url'; readonly url: string } | { readonly kind: 'dir'; readonly dir: string };

function invalid(name: string, why: string): UserInputError {
  return new UserInputError('INVALID_BUILD_CONTEXT', `invalid --build-context ${name}: ${why}`);
}

/** What one entry's value names; a request from any client is checked here again. */
function classify(name: string, value: string): Entry {
  if (name === '' || name.toLowerCase() === 'context' || name.toLowerCase() === 'scratch') throw invalid(JSON.stringify(name), 'the name must not be empty, "context" or "scratch"');
  // NAME::os/arch[/variant]: for a stage built for that platform only.
  const at = name.lastIndexOf('::');
  try {
    familiarImageRef(at < 0 ? name : name.slice(0, at));
  } catch (e) {
    throw invalid(name, `the name is not a stage or image name: ${(e as Error).message}`);
  }
  if (at >= 0) {
    try {
      parsePlatform(name.slice(at + 2));
    } catch (e) {
      throw invalid(name, `"${name.slice(at + 2)}" is not a platform: ${(e as Error).message}`);
    }
  }
  const kind = contextValueKind(value);
  if (kind === 'image') {
    const ref = value.slice(DOCKER_IMAGE_PREFIX.length);
    if (ref.toLowerCase() === 'scratch') return { kind: 'image', ref: 'scratch' };
    try {
      normalizeImageRef(ref);
    } catch (e) {
      throw invalid(name, `"${ref}" is not an image reference: ${(e as Error).message}`);
    }
    return { kind: 'image', ref };
  }
  if (kind === 'url') return { kind: 'url', url: value };
  if (kind === 'unsupported') throw invalid(name, `"${value}" is not supported (docker-image://REF, a Git or HTTP(S) URL, or a directory)`);
  if (!isAbsolute(value)) throw invalid(name, `the directory "${value}" must be an absolute path`);
  return { kind: 'dir', dir: resolve(value) };
}

/** The session's local sources for the request's directory contexts: [local name, directory]. */
export function namedLocalDirs(contexts: Readonly<Record<string, string>> | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(contexts ?? {})) {
    const e = classify(name, value);
    if (e.kind === 'dir') out.push([namedLocalName(name), e.dir]);
  }
  return out;
}

/**
 * The frontend's named contexts for the request: each directory must be one (its `.dockerignore`
 * read now, as the main context's is).
 */
export async function namedContextsOf(contexts: Readonly<Record<string, string>> | undefined, signal: AbortSignal): Promise<Map<string, NamedContext>> {
  const out = new Map<string, NamedContext>();
  for (const [name, value] of Object.entries(contexts ?? {})) {
    const e = classify(name, value);
    if (e.kind === 'image') out.set(name, { kind: 'image', ref: e.ref });
    else if (e.kind === 'url') out.set(name, { kind: 'url', url: e.url });
    else {
      const st = await stat(e.dir).catch(() => undefined);
      if (!st?.isDirectory()) throw invalid(name, `${e.dir} is not a directory`);
      const ignore = await loadDockerignore({ contextDir: e.dir, signal });
      out.set(name, { kind: 'local', localName: namedLocalName(name), excludes: ignore.patterns });
    }
  }
  return out;
}

