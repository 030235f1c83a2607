/**
 * The smallest static ELF programs that tell whether this machine can run a foreign architecture:
 * each one only calls exit(73). Running one proves both halves of emulation — a binfmt_misc handler
 * matches its header and the handler's interpreter really executes it — and the exit status 73 tells
 * a run apart from a failure. They are built here from a few instruction words (no binaries in the
 * repository, nothing downloaded), one per platform an emulator may cover; the header is also what
 * binfmt_misc's magic/mask is matched against (binfmt.ts).
 */

/** What every probe program exits with. */
export const PROBE_EXIT_CODE = 73;

export interface ProbeProgram {
  /** OCI platform names it stands for (arm covers v7 and v6 with one program). */
  readonly platforms: readonly string[];
  /** Architecture as `uname -m`/binfmt speaks it (for messages). */
  readonly machineName: string;
  readonly bytes: Buffer;
}

interface ElfSpec {
  readonly bits: 32 | 64;
  readonly endian: 'le' | 'be';
  readonly machine: number;
  readonly flags: number;
  /** The code: exit(73) in the architecture's Linux syscall convention. */
  readonly code: Buffer;
}

const BASE = 0x400000;

/** One PT_LOAD segment (read + execute) that maps the whole file; the entry point follows the headers. */
function elf(s: ElfSpec): Buffer {
  const ehsize = s.bits === 64 ? 64 : 52;
  const phsize = s.bits === 64 ? 56 : 32;
  const codeOff = ehsize + phsize;
  const total = codeOff + s.code.length;
  const b = Buffer.alloc(total);
  const le = s.endian === 'le';
  const u16 = (v: number, o: number): number => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (v: number, o: number): number => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u64 = (v: number, o: number): number => (le ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o));
  const addr = s.bits === 64 ? u64 : u32;
  const w = s.bits === 64 ? 8 : 4;
  b.write('\x7fELF', 0, 'latin1');
  b[4] = s.bits === 64 ? 2 : 1;
  b[5] = le ? 1 : 2;
  b[6] = 1; // EI_VERSION
  u16(2, 16); // ET_EXEC
  u16(s.machine, 18);
  u32(1, 20); // e_version
  let o = 24;
  addr(BASE + codeOff, o); o += w; // e_entry
  addr(ehsize, o); o += w; // e_phoff
  addr(0, o); o += w; // e_shoff
  u32(s.flags, o); o += 4;
  u16(ehsize, o); u16(phsize, o + 2); u16(1, o + 4); u16(0, o + 6); u16(0, o + 8); u16(0, o + 10);
  o = ehsize;
  if (s.bits === 64) {
    u32(1, o); u32(5, o + 4); u64(0, o + 8); u64(BASE, o + 16); u64(BASE, o + 24); u64(total, o + 32); u64(total, o + 40); u64(0x1000, o + 48);
  } else {
    u32(1, o); u32(0, o + 4); u32(BASE, o + 8); u32(BASE, o + 12); u32(total, o + 16); u32(total, o + 20); u32(5, o + 24); u32(0x1000, o + 28);
  }
  s.code.copy(b, codeOff);
  return b;
}

function words(endian: 'le' | 'be', ...ws: number[]): Buffer {
  const b = Buffer.alloc(ws.length * 4);
  ws.forEach((v, i) => (endian === 'le' ? b.writeUInt32LE(v >>> 0, i * 4) : b.writeUInt32BE(v >>> 0, i * 4)));
  return b;
}

const X = PROBE_EXIT_CODE;

/** The programs, by the architecture they test. Exit codes are encoded as immediates below. */
export const PROBE_PROGRAMS: readonly ProbeProgram[] = [
  // movz x0, #73; movz x8, #93 (exit); svc #0
  { platforms: ['linux/arm64'], machineName: 'aarch64', bytes: elf({ bits: 64, endian: 'le', machine: 183, flags: 0, code: words('le', 0xd2800000 | (X << 5), 0xd2800ba8, 0xd4000001) }) },
  // mov r0, #73; mov r7, #1 (exit); svc #0 — EABI5
  { platforms: ['linux/arm/v7', 'linux/arm/v6'], machineName: 'arm', bytes: elf({ bits: 32, endian: 'le', machine: 40, flags: 0x05000000, code: words('le', 0xe3a00000 | X, 0xe3a07001, 0xef000000) }) },
  // li a0, 73; li a7, 93 (exit); ecall
  { platforms: ['linux/riscv64'], machineName: 'riscv64', bytes: elf({ bits: 64, endian: 'le', machine: 243, flags: 0, code: words('le', (X << 20) | 0x513, 0x05d00893, 0x00000073) }) },
  // li r3, 73; li r0, 1 (exit); sc — ELFv2 ABI
  { platforms: ['linux/ppc64le'], machineName: 'ppc64le', bytes: elf({ bits: 64, endian: 'le', machine: 21, flags: 2, code: words('le', 0x38600000 | X, 0x38000001, 0x44000002) }) },
  // lghi %r2, 73; svc 1 (exit)
  { platforms: ['linux/s390x'], machineName: 's390x', bytes: elf({ bits: 64, endian: 'be', machine: 22, flags: 0, code: Buffer.from([0xa7, 0x29, 0x00, X, 0x0a, 0x01]) }) },
  // mov ebx, 73; mov eax, 1 (exit); int 0x80
  { platforms: ['linux/386'], machineName: 'i386', bytes: elf({ bits: 32, endian: 'le', machine: 3, flags: 0, code: Buffer.from([0xbb, X, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0xcd, 0x80]) }) },
];
