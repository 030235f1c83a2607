/**
 * A Node built-in module required on first use instead of at import. For code on the CLI's start
 * path (issue 10): an ES `import` of a built-in loads it, and everything it loads in turn, when the
 * importing module is initialised — node:crypto brings 16 modules (~2 ms CPU), node:http2 ~90 —
 * even when the command never calls it. Works in the ES modules of dist/ and in the bundles
 * (scripts/bundle.mjs defines `import.meta.url` for the CommonJS ones).
 *
 * node:fs/promises needs no helper: node:fs's `promises` is a getter that requires it on first use,
 * so modules on that path `import { promises as fsp } from 'node:fs'` (the bundles keep the property
 * access at each call). Imported from 'node:fs/promises' it loads, with the 11 modules it brings
 * (fs/dir, the watchers, readline), whenever the importing module is initialised (~1-2 ms).
 */
import { createRequire } from 'node:module';

/** `load()` returns the module, requiring it the first time. Name the type: `lazyBuiltin<typeof Crypto>('node:crypto')`. */
export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let mod: T | undefined;
  return () => (mod ??= createRequire(import.meta.url)(name) as T);
}
