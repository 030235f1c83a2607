/**
 * A CPU profile of some rounds of the parse bench, taken in-process with the inspector (so module
 * loading and JIT warm-up stay out of it), written as a `.cpuprofile` and summarised as the
 * functions with the most self time (there is no GUI on the build machines).
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Runs `body` under the sampling profiler; writes the profile to `file` when given. */
export async function withCpuProfile(body: () => Promise<void>, opts: { file?: string; intervalUs?: number }): Promise<Profile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: opts.intervalUs ?? 200 });
    await session.post('Profiler.start');
    await body();
    const { profile } = await session.post('Profiler.stop');
    if (opts.file) writeFileSync(opts.file, JSON.stringify(profile));
    return profile as unknown as Profile;
  } finally {
    session.disconnect();
  }
}

/** The `top` functions by self time, one line each: ms, share, name and place. */
export function summarizeProfile(profile: Profile, top: number): string {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  // The inspector's own work (stopping the profiler and serialising the profile) is not the bench's.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const excluded = new Set<number>();
  const exclude = (id: number): void => {
    excluded.add(id);
    for (const c of byId.get(id)?.children ?? []) exclude(c);
  };
  for (const n of profile.nodes) if (n.callFrame.url === 'node:inspector' && !excluded.has(n.id)) exclude(n.id);
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    if (excluded.has(n.id)) continue;
    const us = selfUs.get(n.id) ?? 0;
    total += us;
    const place = n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${place}${place ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / Math.max(1, total)).toFixed(1).padStart(5)}%  ${key}`)
    .join('\n');
}
