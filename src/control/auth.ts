/**
 * Who may call what. Every call passes `authorize` (from the call adapter, calls.ts) before its
 * handler runs: the method's required role comes from one table; with a token file the caller must
 * send `authorization: Bearer TOKEN` (UNAUTHENTICATED otherwise) whose role covers the method
 * (PERMISSION_DENIED otherwise). Without a token file every caller that got through the transport
 * (unix socket permissions, or a client certificate with --tls-ca) is an admin. Health checks need
 * no token: load balancers and probes carry none, and they reveal nothing.
 */
import { DaemonErrors } from './errors.js';
import { bearerToken, type TokenTable } from './tokens.js';
import type { Principal, Role } from './types.js';

/** What a method needs: a role, or nothing at all. */
type Required = Role | 'none';

const CONTROL = '/tsbuild.control.v1.Control/';
const READONLY_CONTROL = ['Info', 'ListImages', 'Inspect', 'History', 'DiskUsage', 'ListBuilds', 'Status', 'Check'];
// Everything that changes the store or reaches a registry with the daemon's network.
const ADMIN_CONTROL = ['Solve', 'Prune', 'RemoveImage', 'TagImage', 'Pull', 'Push', 'Load', 'Import', 'Repair'];

const REQUIRED_BY_METHOD: ReadonlyMap<string, Required> = new Map<string, Required>([
  ...READONLY_CONTROL.map((m) => [`${CONTROL}${m}`, 'readonly'] as const),
  ...ADMIN_CONTROL.map((m) => [`${CONTROL}${m}`, 'admin'] as const),
  ['/grpc.health.v1.Health/Check', 'none'],
  ['/grpc.health.v1.Health/Watch', 'none'],
  ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'readonly'],
  ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'readonly'],
]);

/** The role a method needs; methods missing from the table need admin. */
export function requiredRole(method: string): Required {
  return REQUIRED_BY_METHOD.get(method) ?? 'admin';
}

/** What the transport knows about a caller. */
export interface CallerInfo {
  /** The full method path, `/tsbuild.control.v1.Control/Info`. */
  readonly method: string;
  /** The `authorization` header, if sent. */
  readonly authorization: string | undefined;
  /** Subject CN of a verified client certificate (TLS with --tls-ca). */
  readonly certificateName: string | undefined;
  /** `host:port` for tcp callers; undefined on a unix socket. */
  readonly peer: string | undefined;
}

export class Authorizer {
  constructor(private tokens: TokenTable | undefined) {}

  /** Replaces the token table (SIGHUP re-reads the token file). */
  setTokens(tokens: TokenTable | undefined): void {
    this.tokens = tokens;
  }

  get usesTokens(): boolean {
    return this.tokens !== undefined;
  }

  /** The caller's principal, or throws UNAUTHENTICATED / PERMISSION_DENIED. */
  authorize(c: CallerInfo): Principal {
    const required = requiredRole(c.method);
    const transportName = c.certificateName ?? (c.peer === undefined ? 'local' : c.peer.replace(/:\d+$/, ''));
    if (!this.tokens) return { name: transportName, role: 'admin' };
    const token = bearerToken(c.authorization);
    if (token === undefined) {
      if (required === 'none') return { name: transportName, role: 'readonly' };
      throw DaemonErrors.unauthenticated(
        c.authorization === undefined ? 'this daemon needs a bearer token: send the header "authorization: Bearer TOKEN"' : 'malformed authorization header: expected "Bearer TOKEN"',
      );
    }
    const principal = this.tokens.lookup(token);
    if (!principal) throw DaemonErrors.unauthenticated('invalid bearer token');
    if (required === 'admin' && principal.role !== 'admin') throw DaemonErrors.permissionDenied(c.method.replace(/^.*\//, ''), principal.name);
    return principal;
  }
}
