/**
 * Which process owns a ref, a lock or a temp file. A pid alone is not enough (pids are reused),
 * so owners are recorded as pid + the process start time from /proc/<pid>/stat (clock ticks since
 * boot): a dead owner is one whose /proc entry is gone or started at a different time.
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot, as a decimal string ("" when /proc is unavailable). */
  readonly start: string;
}

/** Start time of a process, or undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is parenthesized and may contain spaces or parentheses itself.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22.
  return rest[19] ?? '';
}

/**
 * This process's start time, read once: it cannot change while the process runs, and a daemon asks
 * for it (and for its own liveness, owning most leases, refs and locks) many times a build, a
 * /proc read each (issue 10). Keyed by pid; an unreadable /proc is asked again next time.
 */
let self: { readonly pid: number; readonly start: string } | undefined;

function ownStartTime(): string | undefined {
  if (self?.pid === process.pid) return self.start;
  const start = processStartTime(process.pid);
  if (start !== undefined) self = { pid: process.pid, start };
  return start;
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, start: ownStartTime() ?? '' };
}

/** True while the process that recorded this identity is still running. */
export function isProcessAlive(owner: ProcessIdentity): boolean {
  const start = owner.pid === process.pid ? ownStartTime() : processStartTime(owner.pid);
  if (start === undefined) return false;
  return owner.start === '' || start === owner.start;
}

/** File-name prefix naming the owner: "<pid>-<start>-". */
export function ownerPrefix(owner: ProcessIdentity): string {
  return `${owner.pid}-${owner.start || '0'}-`;
}

/** Parses an ownerPrefix at the start of a file name, or undefined when the name has none. */
export function parseOwnerPrefix(name: string): ProcessIdentity | undefined {
  const m = /^(\d+)-(\d+)-/.exec(name);
  if (!m?.[1] || m[2] === undefined) return undefined;
  return { pid: Number(m[1]), start: m[2] === '0' ? '' : m[2] };
}
