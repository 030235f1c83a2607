/**
 * Docker's default confinement for containers, as BuildKit applies it to RUN steps: the default
 * capability set, masked and read-only /proc paths. With namespaces, no-new-privileges and the
 * seccomp filter of seccomp.ts they are the sandbox.
 */
import { readFile } from 'node:fs/promises';

/** Linux capability numbers, index = bit. */
const CAPABILITY_NAMES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
];

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Docker's masked paths: /dev/null is bound over files, an empty read-only tmpfs over directories. */
export const DOCKER_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const DOCKER_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

/** The capability bitmask (as /proc/PID/status prints it) of a list of `CAP_*` names. */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITY_NAMES.indexOf(n.replace(/^CAP_/, ''));
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** `CAP_*` names of the bits set in a mask; bits this table does not know are left out. */
export function capabilityNames(mask: bigint): string[] {
  const out: string[] = [];
  CAPABILITY_NAMES.forEach((name, bit) => {
    if ((mask >> BigInt(bit)) & 1n) out.push(`CAP_${name}`);
  });
  return out;
}

/**
 * The engine's own bounding set: the most an `insecure` RUN can get (runc cannot grant a
 * capability the engine itself lacks).
 */
export async function ownBoundingCapabilities(): Promise<string[]> {
  const status = await readFile('/proc/self/status', 'utf8');
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
  return capabilityNames(m === null ? 0n : BigInt(`0x${m[1] ?? '0'}`));
}

/**
 * The hard RLIMIT_NOFILE of the engine process: raising a hard limit needs CAP_SYS_RESOURCE, which
 * the engine may not have, so containers get at most what the engine has (and at most 1048576,
 * Docker's usual value).
 */
export async function ownOpenFilesLimit(): Promise<number> {
  const limits = await readFile('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const hard = m?.[2] === undefined || m[2] === 'unlimited' ? Infinity : Number(m[2]);
  return Math.min(Number.isFinite(hard) ? hard : 1048576, 1048576);
}
