/**
 * Choosing one manifest from an index / manifest list by platform. Architectures and variants are
 * normalized like containerd does (x86_64 → amd64, aarch64 → arm64, arm64 ≡ arm64/v8, arm ≡ arm/v7),
 * so `linux/arm64` finds an entry written as `linux/arm64/v8` and the other way round.
 */
import type { Descriptor, Platform } from '../oci/types.js';
import { UserInputError } from '../util/errors.js';

import type { PlatformSpec } from './types.js';

export type { PlatformSpec } from './types.js';

export const DEFAULT_PLATFORM: PlatformSpec = { os: 'linux', architecture: 'amd64' };

interface Normalized {
  readonly os: string;
  readonly architecture: string;
  /** '' when the architecture's default variant. */
  readonly variant: string;
}

function normalize(p: PlatformSpec): Normalized {
  const os = p.os.toLowerCase();
  const a = p.architecture.toLowerCase();
  const v = (p.variant ?? '').toLowerCase();
  switch (a) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { os, architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64':
    case 'arm64':
      return { os, architecture: 'arm64', variant: v === 'v8' || v === '8' ? '' : v };
    case 'armhf':
      return { os, architecture: 'arm', variant: '' };
    case 'armel':
      return { os, architecture: 'arm', variant: 'v6' };
    case 'arm':
      if (v === '' || v === 'v7' || v === '7') return { os, architecture: 'arm', variant: '' };
      return { os, architecture: 'arm', variant: /^\d+$/.test(v) ? `v${v}` : v };
    case 'i386':
    case '386':
      return { os, architecture: '386', variant: '' };
    default:
      return { os, architecture: a, variant: v };
  }
}

/** Parses `os/arch[/variant]`. Throws UserInputError (code INVALID_PLATFORM). */
export function parsePlatformSpec(spec: string): PlatformSpec {
  const parts = spec.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new UserInputError('INVALID_PLATFORM', `invalid platform "${spec}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant !== undefined ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: PlatformSpec | Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * The entry of `manifests` that runs on `want`: os and architecture must match after
 * normalization; an explicit variant must match exactly; without one, the architecture's default
 * variant is preferred and any other variant of it is the fallback. Entries without a platform
 * (attestations, artifacts) never match. Undefined when nothing matches.
 */
export function selectPlatform(manifests: readonly Descriptor[], want: PlatformSpec): Descriptor | undefined {
  const w = normalize(want);
  let fallback: Descriptor | undefined;
  for (const d of manifests) {
    if (!d.platform) continue;
    const c = normalize(d.platform);
    if (c.os !== w.os || c.architecture !== w.architecture) continue;
    if (c.variant === w.variant) return d;
    if (want.variant === undefined && fallback === undefined) fallback = d;
  }
  return fallback;
}
