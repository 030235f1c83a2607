/**
 * Context selectors the way COPY names them: cleaned lexically to a root-relative path (symlinks
 * are then resolved inside the root by src/util/root-path.ts).
 */
import { posix } from 'node:path';

/** Cleans a selector to a root-relative path without leading slash; '' is the root itself. */
export function cleanRelative(p: string): string {
  const c = posix.normalize(`/${p}`);
  return c === '/' ? '' : c.replace(/^\/+/, '').replace(/\/+$/, '');
}
