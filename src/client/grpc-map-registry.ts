/**
 * The registry and archive RPCs' messages (Pull, Push, Load, Import) both ways: the contract's
 * requests, credentials, transfer events and summaries ↔ proto. Both sides import this one file
 * (the client to send and read, src/control to read and answer), so a field cannot be mapped on one
 * side only. Credentials cross only as the RegistryCredentials of the one host a call needs; their
 * secret values are never put in a message or an error.
 */
import type { tsbuild } from './gen/control.js';
import type {
  LoadedImage, PulledLayer, PullRequest, PullSummary, PushRequest, PushSummary, RegistryAccess, RegistryCredentials, TransferEvent, TransferOutcome,
} from './types.js';

type v1 = typeof tsbuild.control.v1;
type Props<T extends keyof v1> = v1[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;
type WireCredentials = Props<'RegistryCredentials'>;

const OUTCOMES: readonly TransferOutcome[] = ['downloaded', 'present', 'uploaded', 'exists', 'mounted'];

function outcomeIn(s: string | null | undefined): TransferOutcome {
  return OUTCOMES.find((o) => o === s) ?? 'downloaded';
}

// --- credentials -------------------------------------------------------------------------------

export function credentialsToWire(host: string, c: RegistryCredentials): WireCredentials {
  switch (c.kind) {
    case 'anonymous':
      return { host };
    case 'basic':
      return { host, username: c.username, password: c.password };
    case 'identity-token':
      return { host, identityToken: c.token, ...(c.username !== undefined ? { username: c.username } : {}) };
    case 'registry-token':
      return { host, registryToken: c.token };
  }
}

/** Credentials from their wire form: an identity token, a registry token, a username, or anonymous. */
export function credentialsFromWire(w: { username?: string | null; password?: string | null; secret?: string | null; identityToken?: string | null; registryToken?: string | null }): RegistryCredentials {
  if (w.identityToken) return { kind: 'identity-token', token: w.identityToken, ...(w.username ? { username: w.username } : {}) };
  if (w.registryToken) return { kind: 'registry-token', token: w.registryToken };
  if (w.username) return { kind: 'basic', username: w.username, password: w.password ?? w.secret ?? '' };
  return { kind: 'anonymous' };
}

/** The Solve answer to an `auth` request. */
export function authResponseOf(requestId: number, c: RegistryCredentials): Props<'AuthResponse'> {
  switch (c.kind) {
    case 'anonymous':
      return { requestId, anonymous: true };
    case 'basic':
      return { requestId, username: c.username, secret: c.password };
    case 'identity-token':
      return { requestId, identityToken: c.token, ...(c.username !== undefined ? { username: c.username } : {}) };
    case 'registry-token':
      return { requestId, registryToken: c.token };
  }
}

/** The daemon's lookup for a call that carried one host's credentials: that host gets them, others none. */
export function lookupOf(w: WireCredentials | null | undefined): (host: string) => Promise<RegistryCredentials> {
  const given = w?.host ? credentialsFromWire(w) : undefined;
  return (host) => Promise.resolve(given && host === w?.host ? given : { kind: 'anonymous' });
}

/** The wire's registry options: insecure registries and the CA's PEM bytes (read by the client). */
export function registryOptionsToWire(access: RegistryAccess | undefined, caPem: Uint8Array | undefined): Props<'RegistryOptions'> {
  return { insecureRegistries: [...(access?.insecureRegistries ?? [])], ...(caPem ? { caPem } : {}) };
}

// --- requests ------------------------------------------------------------------------------------

export function pullRequestToWire(r: PullRequest, registry: Props<'RegistryOptions'>, credentials: WireCredentials): Props<'PullRequest'> {
  return { ref: r.ref, platform: r.platform ?? '', registry, credentials };
}

/** The daemon's PullRequest; `caFile` is where it wrote the request's CA (when it had one). */
export function pullRequestFromWire(w: Props<'PullRequest'>, caFile: string | undefined): PullRequest {
  return { ref: w.ref ?? '', ...(w.platform ? { platform: w.platform } : {}), ...registryFromWire(w.registry, caFile) };
}

export function pushRequestToWire(r: PushRequest, registry: Props<'RegistryOptions'>, credentials: WireCredentials): Props<'PushRequest'> {
  return { name: r.name, registry, credentials };
}

export function pushRequestFromWire(w: Props<'PushRequest'>, caFile: string | undefined): PushRequest {
  return { name: w.name ?? '', ...registryFromWire(w.registry, caFile) };
}

function registryFromWire(w: Props<'RegistryOptions'> | null | undefined, caFile: string | undefined): { registry?: RegistryAccess } {
  const insecure = w?.insecureRegistries ?? [];
  if (insecure.length === 0 && caFile === undefined) return {};
  return { registry: { ...(insecure.length > 0 ? { insecureRegistries: [...insecure] } : {}), ...(caFile !== undefined ? { caFile } : {}) } };
}

// --- progress and summaries ----------------------------------------------------------------------

export function transferEventToWire(e: TransferEvent): Props<'TransferEvent'> {
  return e.kind === 'progress'
    ? { digest: e.digest, mediaType: e.mediaType, done: false, current: e.current, total: e.total }
    : { digest: e.digest, mediaType: e.mediaType, done: true, size: e.size, outcome: e.outcome };
}

export function transferEventFromWire(w: Props<'TransferEvent'>): TransferEvent {
  const base = { digest: w.digest ?? '', mediaType: w.mediaType ?? '' };
  return w.done
    ? { kind: 'done', ...base, size: w.size ?? 0, outcome: outcomeIn(w.outcome) }
    : { kind: 'progress', ...base, current: w.current ?? 0, total: w.total ?? 0 };
}

export function pullSummaryToWire(s: PullSummary): Props<'PullSummary'> {
  return {
    name: s.name, digest: s.digest, manifestDigest: s.manifestDigest, configDigest: s.configDigest, upToDate: s.upToDate,
    layers: s.layers.map((l) => ({ digest: l.digest, size: l.size, outcome: l.outcome })),
  };
}

export function pullSummaryFromWire(w: Props<'PullSummary'>): PullSummary {
  return {
    name: w.name ?? '', digest: w.digest ?? '', manifestDigest: w.manifestDigest ?? '', configDigest: w.configDigest ?? '',
    layers: (w.layers ?? []).map((l): PulledLayer => ({ digest: l.digest ?? '', size: l.size ?? 0, outcome: l.outcome === 'present' ? 'present' : 'downloaded' })),
    upToDate: w.upToDate ?? false,
  };
}

export function pushSummaryToWire(s: PushSummary): Props<'PushSummary'> {
  return { name: s.name, digest: s.digest, size: s.size, blobs: s.blobs.map((b) => ({ digest: b.digest, outcome: b.outcome })) };
}

export function pushSummaryFromWire(w: Props<'PushSummary'>): PushSummary {
  return {
    name: w.name ?? '', digest: w.digest ?? '', size: w.size ?? 0,
    blobs: (w.blobs ?? []).map((b) => ({ digest: b.digest ?? '', outcome: outcomeIn(b.outcome) })),
  };
}

export function loadedImageToWire(i: LoadedImage): Props<'LoadedImage'> {
  return { name: i.name ?? '', manifestDigest: i.manifestDigest, configDigest: i.configDigest };
}

export function loadedImageFromWire(w: Props<'LoadedImage'>): LoadedImage {
  return { ...(w.name ? { name: w.name } : {}), manifestDigest: w.manifestDigest ?? '', configDigest: w.configDigest ?? '' };
}
