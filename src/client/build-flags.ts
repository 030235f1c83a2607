/** Parsers for build flags whose syntax the engine defines (`--secret`, `--ssh`), for front ends. */
export { parseSecretFlag, parseSshFlag, type SecretSource } from '../worker/exec/secrets.js';
/** `--cache-to` / `--cache-from` values (buildx syntax). */
export { parseCacheExportSpec, parseCacheImportSpec } from '../cache/remote/cache-spec.js';
export type { CacheExportSpec, CacheImportSpec } from '../cache/remote/types.js';
