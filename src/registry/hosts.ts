/** Where a registry domain is reached: Docker Hub's API host and credential key, host names for TLS and loopback checks. */
import { DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN } from '../oci/reference.js';

/** Where Docker Hub's API really lives. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** The key Docker Hub credentials are stored under in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/**
 * The host the API is reached at: Docker Hub's `docker.io` lives at registry-1.docker.io;
 * everything else is itself.
 */
export function apiHost(domain: string): string {
  return domain === DEFAULT_DOMAIN || domain === LEGACY_DEFAULT_DOMAIN ? DOCKER_HUB_API_HOST : domain;
}

/** The hostname without port or IPv6 brackets (for loopback checks and TLS server names). */
export function hostnameOf(domain: string): string {
  if (domain.startsWith('[')) {
    const end = domain.indexOf(']');
    return end > 0 ? domain.slice(1, end) : domain;
  }
  const colon = domain.lastIndexOf(':');
  return colon >= 0 ? domain.slice(0, colon) : domain;
}
