/** How docker shows stored image names: `app` / `latest`, `<none>` for untagged images. */
import { familiarImageRef, parseReference } from '../../oci/reference.js';
import { isDanglingName } from '../../cache/dangling-images.js';

export interface RepoTag {
  /** Familiar repository (`app`, `myorg/app`, `localhost:5000/app`), or `<none>`. */
  readonly repository: string;
  /** Tag, or `<none>` (untagged, or a digest-only name). */
  readonly tag: string;
}

export function repoTag(name: string): RepoTag {
  if (isDanglingName(name)) return { repository: '<none>', tag: '<none>' };
  try {
    const r = parseReference(name);
    return { repository: familiarImageRef(`${r.domain}/${r.path}`), tag: r.tag ?? '<none>' };
  } catch {
    // Not a reference (written by something else): show it as it is.
    return { repository: name, tag: '<none>' };
  }
}

/** `app:latest` for `docker.io/library/app:latest`; undefined for untagged images. */
export function familiarName(name: string): string | undefined {
  if (isDanglingName(name)) return undefined;
  try {
    return familiarImageRef(name);
  } catch {
    return name;
  }
}

/** The full repository of a stored name (`docker.io/library/app`); undefined for a `<none>` entry. */
export function repositoryOf(name: string): string | undefined {
  if (isDanglingName(name)) return undefined;
  try {
    const r = parseReference(name);
    return `${r.domain}/${r.path}`;
  } catch {
    return undefined;
  }
}

/** `app@sha256:…` for repository `docker.io/library/app` and a digest, as docker shows RepoDigests. */
export function familiarRepoDigest(repository: string, digest: string): string {
  try {
    return familiarImageRef(`${repository}@${digest}`);
  } catch {
    return `${repository}@${digest}`;
  }
}

/** Short image ID as docker prints it: the first 12 hex digits of the config digest. */
export function shortId(configDigest: string): string {
  return configDigest.replace(/^sha256:/, '').slice(0, 12);
}
