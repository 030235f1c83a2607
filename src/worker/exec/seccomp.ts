/**
 * The seccomp filter of a sandboxed RUN step: an allow list, as Docker's default profile is. A
 * call that is not listed gets EPERM, so a system call a newer kernel adds stays refused until
 * someone decides to list it (runc answers numbers past the last listed call with ENOSYS, so that
 * libc falls back to an older call, exactly as under Docker). An earlier deny list over an
 * allow-by-default filter let every new call through and differed from Docker in 27 of the ~100
 * calls the seccomp probe test makes.
 *
 * The list itself is seccomp-allow-list.ts; this file resolves its conditions for one step (the
 * capabilities the step holds, the host's architecture, the kernel version) into the
 * `linux.seccomp` object of the OCI runtime spec, which runc turns into a filter through libseccomp.
 * A name libseccomp does not know for an architecture (vm86 on x86_64) is skipped by runc, not an
 * error. `RUN --security=insecure` gets no filter.
 */
import { release } from 'node:os';
import { SYSCALL_GROUPS } from './seccomp-allow-list.js';
import type { GroupCondition, SeccompArchName, SyscallGroup } from './seccomp-allow-list.js';

export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';

/** One argument test of a rule: `EQ` compares with value; `MASKED_EQ` compares `arg & value` with valueTwo. */
export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: 'SCMP_CMP_EQ' | 'SCMP_CMP_MASKED_EQ';
}

/** A rule of the filter; the argument tests of one rule are ANDed, rules for one call are ORed. */
export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  /** With SCMP_ACT_ERRNO: the errno returned. */
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[];
}

/** The `linux.seccomp` object of an OCI runtime spec (the fields tsbuild writes). */
export interface SeccompPolicy {
  /** Calls no rule allows are refused... */
  readonly defaultAction: 'SCMP_ACT_ERRNO';
  /** ...with EPERM, as Docker's profile does. */
  readonly defaultErrnoRet: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly SeccompRule[];
}

const EPERM = 1;

export interface SandboxSeccompOptions {
  /** The step's bounding capabilities (`CAP_*`); capability-gated groups follow them. */
  readonly capabilities: readonly string[];
  /** A Node.js `process.arch` value. Default: this process's. */
  readonly arch?: string;
  /** The kernel release (`uname -r`). Default: the running kernel's. */
  readonly kernelRelease?: string;
}

/** libseccomp's name for a Node.js architecture, as the allow list's conditions spell it. */
function seccompArchName(arch: string): SeccompArchName | undefined {
  const names: Readonly<Record<string, SeccompArchName>> = { x64: 'amd64', ia32: 'x86', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[arch];
}

/** seccomp architectures for the host: the native one plus its 32-bit and x32 companions. */
export function seccompArchitectures(arch: string = process.arch): string[] {
  switch (arch) {
    case 'x64':
      return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'arm64':
      return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'ia32':
      return ['SCMP_ARCH_X86'];
    case 'arm':
      return ['SCMP_ARCH_ARM'];
    case 'ppc64':
      return ['SCMP_ARCH_PPC64LE'];
    case 's390x':
      return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    case 'riscv64':
      return ['SCMP_ARCH_RISCV64'];
    default:
      return [];
  }
}

/** [major, minor] of a kernel release such as `6.1.0-18-amd64`; [0, 0] when it cannot be read. */
export function kernelVersion(kernelRelease: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

interface Host {
  readonly capabilities: ReadonlySet<string>;
  readonly arch: SeccompArchName | undefined;
  readonly kernel: readonly [number, number];
}

function holds(when: GroupCondition | undefined, host: Host): boolean {
  if (when === undefined) return true;
  if (when.withCapability !== undefined && !host.capabilities.has(when.withCapability)) return false;
  if (when.withoutCapability !== undefined && host.capabilities.has(when.withoutCapability)) return false;
  if (when.onArch !== undefined && (host.arch === undefined || !when.onArch.includes(host.arch))) return false;
  if (when.notOnArch !== undefined && host.arch !== undefined && when.notOnArch.includes(host.arch)) return false;
  if (when.minKernel !== undefined) {
    const [major, minor] = host.kernel;
    const [needMajor, needMinor] = when.minKernel;
    if (major < needMajor || (major === needMajor && minor < needMinor)) return false;
  }
  return true;
}

function toRule(g: SyscallGroup): SeccompRule {
  const action: Pick<SeccompRule, 'action' | 'errnoRet'> = g.outcome === 'allow' ? { action: 'SCMP_ACT_ALLOW' } : { action: 'SCMP_ACT_ERRNO', errnoRet: g.outcome.errno };
  if (g.args === undefined) return { names: g.names, ...action };
  return {
    names: g.names,
    ...action,
    args: g.args.map((a): SeccompArg => a.mask === undefined
      ? { index: a.index, value: a.equals, op: 'SCMP_CMP_EQ' }
      : { index: a.index, value: a.mask, valueTwo: a.equals, op: 'SCMP_CMP_MASKED_EQ' }),
  };
}

/**
 * The filter for a sandboxed step on this host. Unconditional allows of the groups that apply are
 * merged into the first rule (one long list of names); rules with argument tests or an errno follow.
 */
export function sandboxSeccomp(o: SandboxSeccompOptions): SeccompPolicy {
  const arch = o.arch ?? process.arch;
  const host: Host = { capabilities: new Set(o.capabilities), arch: seccompArchName(arch), kernel: kernelVersion(o.kernelRelease ?? release()) };
  const groups = SYSCALL_GROUPS.filter((g) => holds(g.when, host));
  const plain = groups.filter((g) => g.outcome === 'allow' && g.args === undefined);
  const names = [...new Set(plain.flatMap((g) => g.names))];
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: seccompArchitectures(arch),
    syscalls: [
      { names, action: 'SCMP_ACT_ALLOW' },
      ...groups.filter((g) => !plain.includes(g)).map(toRule),
    ],
  };
}
