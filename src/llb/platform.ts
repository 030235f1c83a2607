/**
 * Platform strings (`linux/amd64`, `linux/arm/v7`) parsed and normalized like containerd's
 * `platforms` package, and the platform of the machine tsbuild runs on.
 */
import { TsbuildError } from '../util/errors.js';
import type { LLBPlatform } from './types.js';

export class InvalidPlatformError extends TsbuildError {
  constructor(spec: string, why: string) {
    super('INVALID_PLATFORM', `invalid platform "${spec}": ${why}`);
    this.name = 'InvalidPlatformError';
  }
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'illumos', 'ios', 'js', 'linux', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows']);
const COMPONENT = /^[A-Za-z0-9_-]+$/;

/** Normalizes architecture aliases (x86_64 → amd64, aarch64 → arm64 …) and default variants. */
export function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386': return { architecture: '386', variant: '' };
    case 'x86_64': case 'x86-64': case 'amd64': return { architecture: 'amd64', variant: v === 'v1' ? '' : v };
    case 'aarch64': case 'arm64': return { architecture: 'arm64', variant: v === '8' || v === 'v8' ? '' : v };
    case 'armhf': return { architecture: 'arm', variant: 'v7' };
    case 'armel': return { architecture: 'arm', variant: 'v6' };
    case 'arm': {
      if (v === '' || v === '7') return { architecture: 'arm', variant: 'v7' };
      if (v === '5' || v === '6' || v === '8') return { architecture: 'arm', variant: `v${v}` };
      return { architecture: 'arm', variant: v };
    }
    default: return { architecture: a, variant: v };
  }
}

/**
 * Parses `os[/arch[/variant]]` or a bare `arch` (meaning linux/arch). Throws InvalidPlatformError.
 */
export function parsePlatform(spec: string): LLBPlatform {
  const s = spec.trim();
  if (s === '') throw new InvalidPlatformError(spec, 'empty platform');
  const parts = s.split('/');
  if (parts.length > 3 || parts.some((p) => !COMPONENT.test(p))) {
    throw new InvalidPlatformError(spec, 'expected os/arch[/variant]');
  }
  let os: string;
  let arch: string;
  let variant = '';
  if (parts.length === 1) {
    const p = (parts[0] as string).toLowerCase();
    if (KNOWN_OS.has(p)) {
      os = p;
      arch = hostPlatform().architecture;
      variant = hostPlatform().variant ?? '';
    } else {
      os = 'linux';
      arch = p;
    }
  } else {
    os = (parts[0] as string).toLowerCase();
    arch = parts[1] as string;
    variant = parts[2] ?? '';
    if (!KNOWN_OS.has(os)) throw new InvalidPlatformError(spec, `unknown operating system "${parts[0]}"`);
  }
  const n = normalizeArch(arch, variant);
  return n.variant ? { os, architecture: n.architecture, variant: n.variant } : { os, architecture: n.architecture };
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: LLBPlatform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** The platform of this machine (always linux: tsbuild builds Linux images). */
export function hostPlatform(): LLBPlatform {
  switch (process.arch) {
    case 'x64': return { os: 'linux', architecture: 'amd64' };
    case 'arm64': return { os: 'linux', architecture: 'arm64' };
    case 'arm': return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32': return { os: 'linux', architecture: '386' };
    case 'ppc64': return { os: 'linux', architecture: 'ppc64le' };
    default: return { os: 'linux', architecture: process.arch };
  }
}

export function samePlatform(a: LLBPlatform, b: LLBPlatform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}
