/**
 * Waits for the machine to go idle before a timed build: the previous build's tool may still be
 * working after its command returned (dockerd's and containerd's work after a build and after
 * `docker save`, tsbuildd's collection after a call), and that work would be timed as part of the
 * next tool's build. Idle: at most `busyPercent` of all CPUs busy over a `windowMs` window (from
 * /proc/stat), or `maxWaitMs` passed.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsbuildError } from '../../src/util/errors.js';
import { runCommand } from './run-command.js';

/** Busy and total jiffies of all CPUs (the /proc/stat "cpu" line). */
function cpuJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

export interface IdleResult {
  /** How long it waited. */
  readonly waitedMs: number;
  /** Whether the machine went idle (false: maxWaitMs passed). */
  readonly idle: boolean;
}

export async function waitForIdle(o: { readonly signal: AbortSignal; readonly busyPercent?: number; readonly windowMs?: number; readonly maxWaitMs?: number }): Promise<IdleResult> {
  const busyPercent = o.busyPercent ?? 10;
  const windowMs = o.windowMs ?? 100;
  const maxWaitMs = o.maxWaitMs ?? 5_000;
  const start = Date.now();
  for (;;) {
    const a = cpuJiffies();
    await sleep(windowMs, undefined, { signal: o.signal });
    const b = cpuJiffies();
    const total = b.total - a.total;
    if (total > 0 && ((b.busy - a.busy) / total) * 100 <= busyPercent) return { waitedMs: Date.now() - start, idle: true };
    if (Date.now() - start >= maxWaitMs) return { waitedMs: Date.now() - start, idle: false };
  }
}

/**
 * Before a timed build, not timed: the page cache's dirty data is written out (`sync`), so the
 * build does not pay for the one before it's disk writes, and the machine is let go idle.
 */
export async function settle(o: { readonly signal: AbortSignal }): Promise<void> {
  const r = await runCommand('sync', [], { signal: o.signal });
  if (r.code !== 0) throw new TsbuildError('BENCH_SYNC_FAILED', `sync failed: ${r.stderr.trim()}`);
  await waitForIdle({ signal: o.signal });
}
