/**
 * A Node built-in module required on first use instead of at import. For code on the CLI's start
 * path (issue 10): an ES `import` of a built-in loads it, and everything it loads in turn, when the
 * importing module is initialised — node:crypto brings 16 modules (~2 ms CPU), node:http2 ~90 —
 * even when the command never calls it. Works in the ES modules of dist/ and in the bundles
 * (scripts/bundle.mjs defines `import.meta.url` for the CommonJS ones).
 */
import { createRequire } from 'node:module';

/** `load()` returns the module, requiring it the first time. Name the type: `lazyBuiltin<typeof Crypto>('node:crypto')`. */
export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let mod: T | undefined;
  return () => (mod ??= createRequire(import.meta.url)(name) as T);
}
