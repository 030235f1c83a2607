/**
 * `--ulimit NAME=SOFT[:HARD]` (docker build, buildx): the names Docker takes (go-units' ulimit
 * names) and the setrlimit resource each stands for, in one place for the client that parses the
 * flag, the engine that checks entries from the wire, and the executor that writes them into the
 * runtime spec's `process.rlimits`. Values are non-negative whole numbers; soft ≤ hard.
 */

/** Docker's ulimit names → the OCI runtime spec's rlimit type. */
export const ULIMIT_TYPES: Readonly<Record<string, string>> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

export interface UlimitEntry {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

/** Why `u` is not a ulimit Docker takes, or undefined when it is. */
export function ulimitProblem(u: UlimitEntry): string | undefined {
  if (!Object.hasOwn(ULIMIT_TYPES, u.name)) return `unknown ulimit "${u.name}" (${Object.keys(ULIMIT_TYPES).join(', ')})`;
  for (const v of [u.soft, u.hard]) if (!Number.isSafeInteger(v) || v < 0) return `${v} is not a non-negative whole number`;
  if (u.soft > u.hard) return `the soft limit ${u.soft} is above the hard limit ${u.hard}`;
  return undefined;
}

/** Parses `NAME=SOFT[:HARD]` (HARD defaults to SOFT); a message says what is wrong. */
export function parseUlimit(value: string): UlimitEntry | string {
  const eq = value.indexOf('=');
  if (eq <= 0) return 'expected NAME=SOFT[:HARD]';
  const [soft, hard, more] = value.slice(eq + 1).split(':');
  if (more !== undefined || soft === undefined || !/^\d+$/.test(soft) || (hard !== undefined && !/^\d+$/.test(hard))) return 'expected NAME=SOFT[:HARD] with whole numbers';
  const u = { name: value.slice(0, eq), soft: Number(soft), hard: Number(hard ?? soft) };
  return ulimitProblem(u) ?? u;
}
