/**
 * `tsbuild history --why [BUILD]`: a past build (default: the newest) step by step, each executed
 * step with why the cache did not answer it — `COPY package.json ./: package.json changed`.
 */
import type { PastBuild, PastBuildStep } from '../../src/client/types.js';
import { formatSeconds } from '../../src/progress/format.js';

/** `COPY package.json ./: package.json changed`; a FROM's reason names its image, so only `FROM:`. */
export function whyLine(s: PastBuildStep): string {
  const label = /^FROM\s/i.test(s.instruction) && s.why !== undefined && /now resolves to/.test(s.why) ? 'FROM' : s.instruction;
  switch (s.outcome) {
    case 'cached':
      return `${label}: cached`;
    case 'executed':
      return `${label}: ${s.why ?? 'executed'}`;
    case 'failed':
      return `${label}: failed${s.why !== undefined ? ` (ran because: ${s.why})` : ''}`;
    case 'skipped':
      return `${label}: not needed (a later step was cached)`;
    case 'canceled':
      return `${label}: canceled`;
  }
}

/** The build's header line and one line per Dockerfile step (internal steps left out). */
export function renderWhy(b: PastBuild): string {
  const dur = b.completed !== undefined ? ` in ${formatSeconds(b.completed - b.started)}` : '';
  let out = `build ${b.buildId} (${b.description}) ${b.status}${dur}: ${b.stepsTotal} steps, ${b.stepsCached} cached, ${b.stepsExecuted} executed\n`;
  for (const s of b.steps) if (s.stage !== '') out += `${whyLine(s)}\n`;
  return out;
}
