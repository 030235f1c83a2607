/**
 * The OCI distribution client: references, credentials, pull and push. Start with
 * `new RegistryClient(opts)`; see types.ts for the sink/source seams and docs/registry.md.
 */
export type * from './types.js';
export { RegistryClient } from './client.js';
export type { FetchBlobOptions, FetchManifestOptions } from './client.js';
export { RegistryError, isRegistryError } from './errors.js';
export type { RegistryErrorCode } from './errors.js';
export {
  parseReference,
  parseReferenceRaw,
  formatReference,
  familiarName,
  familiarString,
  repositoryName,
  withDefaultTag,
  withTag,
  withDigest,
  isValidDomain,
  InvalidReferenceError,
  DEFAULT_DOMAIN,
} from '../oci/reference.js';
export type { RawReference, ReferenceErrorReason } from '../oci/reference.js';
export { sha256Digest } from './digest.js';
export { validateDigest, isValidDigest, DigestError } from '../oci/digest.js';
export { DEFAULT_PLATFORM, parsePlatformSpec, formatPlatform, selectPlatform } from './platform.js';
export { MANIFEST_ACCEPT, parseManifest, isIndexMediaType } from './manifest.js';
export { DockerConfigCredentials, StaticCredentials, credentialsFromEntry } from './docker-credentials.js';
export { dockerConfigPath, readDockerConfig, authKeyFor } from './docker-config.js';
export { login, logout, normalizeServer } from './login.js';
export type { LoginOptions, LoginResult, LogoutOptions } from './login.js';
export { MemoryBlobSource } from './memory-source.js';
export { parseWwwAuthenticate } from './www-authenticate.js';
export type { Challenge } from './www-authenticate.js';
