/** Parsers for build flags whose syntax the engine defines (`--secret`, `--ssh`), for front ends. */
export { parseSecretFlag, parseSshFlag, type SecretSource } from '../worker/exec/secrets.js';
