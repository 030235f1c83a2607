/**
 * Who owns an active snapshot, a mount point or a temporary directory: a token naming the process
 * (pid + kernel start time, so a recycled pid is not mistaken for the original) and the
 * snapshotter instance. After a crash, `cleanupStale()` removes what belongs to dead processes.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface OwnerToken {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  readonly startTime: string;
  /** Distinguishes two snapshotters in one process. */
  readonly instance: string;
}

const TOKEN_RE = /^(\d+)-(\d+)-([0-9a-f]{8})$/;

/** The kernel start time of `pid`, or undefined when no such process exists. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses; everything after the last ')' is regular.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[22 - 3];
}

export function newOwnerToken(): OwnerToken {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined) throw new Error('cannot read /proc/self/stat');
  return { pid: process.pid, startTime, instance: randomBytes(4).toString('hex') };
}

export function formatOwner(t: OwnerToken): string {
  return `${t.pid}-${t.startTime}-${t.instance}`;
}

export function parseOwner(s: string): OwnerToken | undefined {
  const m = TOKEN_RE.exec(s.trim());
  if (!m) return undefined;
  return { pid: Number(m[1]), startTime: m[2] ?? '', instance: m[3] ?? '' };
}

/**
 * Whether the process behind a token still runs. An unparsable token counts as dead: it can only
 * come from a torn write, which only a crash leaves.
 */
export function ownerAlive(token: string): boolean {
  const t = parseOwner(token);
  if (!t) return false;
  return processStartTime(t.pid) === t.startTime;
}
