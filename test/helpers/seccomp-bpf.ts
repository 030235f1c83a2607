/**
 * A classic-BPF interpreter for seccomp programs, to compare two filters by what they answer rather
 * than byte for byte: runc's own program varies from run to run in the order of its ENOSYS stub's
 * architecture checks (Go map order), with the same answers.
 */

/** seccomp(2) audit architecture values. */
export const AUDIT_ARCH = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7 } as const;

export interface SeccompData {
  readonly nr: number;
  readonly arch: number;
  /** Six 64-bit arguments. */
  readonly args: readonly bigint[];
}

/** A filter file's program (the 8-byte flags word stripped) as instructions. */
export function parseProgram(file: Buffer): Array<{ code: number; jt: number; jf: number; k: number }> {
  const out = [];
  for (let o = 8; o + 8 <= file.length; o += 8) out.push({ code: file.readUInt16LE(o), jt: file.readUInt8(o + 2), jf: file.readUInt8(o + 3), k: file.readUInt32LE(o + 4) });
  return out;
}

function dataBytes(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(d.nr >>> 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  d.args.forEach((a, i) => b.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  return b;
}

/** Runs `prog` on `d`; returns the SECCOMP_RET_* value. Throws on an instruction it does not know. */
export function runProgram(prog: ReturnType<typeof parseProgram>, d: SeccompData): number {
  const data = dataBytes(d);
  let a = 0;
  let x = 0;
  const mem = new Array<number>(16).fill(0);
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc] as (typeof prog)[number];
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // LD
        if (code === 0x20) a = data.readUInt32LE(k);
        else if (code === 0x00) a = k;
        else if (code === 0x60) a = mem[k] ?? 0;
        else throw new Error(`BPF: ld code ${code.toString(16)}`);
        break;
      case 0x01: // LDX
        if (code === 0x01) x = k;
        else if (code === 0x61) x = mem[k] ?? 0;
        else throw new Error(`BPF: ldx code ${code.toString(16)}`);
        break;
      case 0x02:
        mem[k] = a;
        break;
      case 0x03:
        mem[k] = x;
        break;
      case 0x04: {
        const op = code & 0xf0;
        if (op === 0x00) a = (a + src) >>> 0;
        else if (op === 0x10) a = (a - src) >>> 0;
        else if (op === 0x40) a = (a | src) >>> 0;
        else if (op === 0x50) a = (a & src) >>> 0;
        else if (op === 0x60) a = (a << src) >>> 0;
        else if (op === 0x70) a = a >>> src;
        else if (op === 0x80) a = -a >>> 0;
        else if (op === 0xa0) a = (a ^ src) >>> 0;
        else throw new Error(`BPF: alu code ${code.toString(16)}`);
        break;
      }
      case 0x05: {
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        let taken: boolean;
        if (op === 0x10) taken = a === src >>> 0;
        else if (op === 0x20) taken = a > src >>> 0;
        else if (op === 0x30) taken = a >= src >>> 0;
        else if (op === 0x40) taken = (a & src) !== 0;
        else throw new Error(`BPF: jmp code ${code.toString(16)}`);
        pc += taken ? jt : jf;
        break;
      }
      case 0x06:
        return (code & 0x18) === 0x10 ? a : k;
      case 0x07:
        if (code === 0x07) x = a;
        else if (code === 0x87) a = x;
        else throw new Error(`BPF: misc code ${code.toString(16)}`);
        break;
      default:
        throw new Error(`BPF: class ${cls}`);
    }
  }
  throw new Error('BPF: ran off the end of the program');
}

/** Argument values that the allow list's conditions test (clone flags, personality, socket families…) and some around them. */
const ARG_VALUES = [0n, 1n, 2n, 8n, 10n, 16n, 40n, 0x20000n, 0x20008n, 0xffffffffn, 0x7e020000n, 0x10000000n, 0x20000000n, 0x40000n, 0x100000000n, 0xffffffffffffffffn];

/**
 * The inputs two filters are compared on: the host's architectures and a foreign one, every call
 * number below 1024 (and the x32 ones), a few far past the end, each with every argument value in
 * each position and all-equal.
 */
export function* probeInputs(): Generator<SeccompData> {
  const nrs = [...Array.from({ length: 1024 }, (_, i) => i), 0x7fffffff, 0xffffffff];
  const argSets: bigint[][] = [];
  for (const v of ARG_VALUES) {
    argSets.push([v, v, v, v, v, v]);
    for (let i = 0; i < 3; i++) argSets.push(Array.from({ length: 6 }, (_, j) => (j === i ? v : 0n)));
  }
  for (const arch of Object.values(AUDIT_ARCH)) {
    const archNrs = arch === AUDIT_ARCH.x86_64 ? [...nrs, ...nrs.slice(0, 1024).map((n) => (0x40000000 | n) >>> 0)] : nrs;
    for (const nr of archNrs) for (const args of argSets) yield { nr, arch, args };
  }
}

/** The first input on which the two filter files answer differently (flags word included), or undefined. */
export function firstDifference(a: Buffer, b: Buffer): string | undefined {
  if (a.readBigUInt64LE(0) !== b.readBigUInt64LE(0)) return `flags ${a.readBigUInt64LE(0)} vs ${b.readBigUInt64LE(0)}`;
  const pa = parseProgram(a);
  const pb = parseProgram(b);
  for (const d of probeInputs()) {
    const ra = runProgram(pa, d);
    const rb = runProgram(pb, d);
    if (ra !== rb) return `nr ${d.nr} arch ${d.arch.toString(16)} args ${d.args.join(',')}: ${ra.toString(16)} vs ${rb.toString(16)}`;
  }
  return undefined;
}
