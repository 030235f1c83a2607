/**
 * What the VALUE of `--build-context NAME=VALUE` names, by its form alone (buildx's rules): an
 * image (`docker-image://REF`), a Git repository or HTTP(S) file (a URL, or `user@host:path`), a
 * form tsbuild does not read (`oci-layout://`, any other scheme, bake's `target:`, `input:`), or
 * else a path. The client, which resolves paths, and the engine, which takes the client's absolute
 * paths, classify with the same rules.
 */
export type ContextValueKind = 'image' | 'url' | 'unsupported' | 'path';

export const DOCKER_IMAGE_PREFIX = 'docker-image://';

const REMOTE = /^(https?|git|ssh):\/\/|^[\w.-]+@[\w.-]+:/i;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

export function contextValueKind(value: string): ContextValueKind {
  if (value.startsWith(DOCKER_IMAGE_PREFIX)) return 'image';
  if (REMOTE.test(value)) return 'url';
  if (SCHEME.test(value) || value.startsWith('target:') || value.startsWith('input:')) return 'unsupported';
  return 'path';
}
