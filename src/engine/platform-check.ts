/**
 * Before a build runs any step: every platform its RUN steps target must run on this machine
 * (natively or through a registered emulator), else the build fails at once with what to install,
 * instead of at the first foreign RUN after minutes of other work. File ops and sources run on the
 * host whatever their platform, so only exec vertices count.
 */
import type { LLBPlatform, LoadedDefinition } from '../llb/types.js';
import type { Emulators } from '../worker/platforms/emulators.js';

export function execPlatforms(def: LoadedDefinition): LLBPlatform[] {
  const out: LLBPlatform[] = [];
  for (const v of def.vertices.values()) {
    const p = v.op.pb.platform;
    if (v.op.kind !== 'exec' || !p?.os || !p.architecture) continue;
    out.push(p.variant ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture });
  }
  return out;
}

/** Throws the emulator error (emulator-errors.ts) when a RUN step's platform cannot run here. */
export function requireRunnablePlatforms(emulators: Emulators, def: LoadedDefinition, signal: AbortSignal): Promise<void> {
  return emulators.require(execPlatforms(def), signal);
}
