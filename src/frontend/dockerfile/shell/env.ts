/** Building EnvLookup functions from the shapes callers hold. */
import type { EnvLookup } from './types.js';

/**
 * From `KEY=value` strings (Go's `EnvsFromSlice`): the text before the first `=` is the key, an entry
 * without `=` sets the key to the empty string, and a later entry for the same key wins.
 */
export function envFromList(entries: readonly string[]): EnvLookup {
  const map = new Map<string, string>();
  for (const e of entries) {
    const i = e.indexOf('=');
    if (i < 0) map.set(e, '');
    else map.set(e.slice(0, i), e.slice(i + 1));
  }
  return (name) => map.get(name);
}

/** From a map or a plain record (own keys only, so `constructor` is not a variable). */
export function envFromRecord(env: ReadonlyMap<string, string> | Readonly<Record<string, string>>): EnvLookup {
  if (env instanceof Map) return (name) => env.get(name);
  const rec = env as Readonly<Record<string, string>>;
  return (name) => (Object.hasOwn(rec, name) ? rec[name] : undefined);
}

/** No variables at all. */
export const emptyEnv: EnvLookup = () => undefined;
