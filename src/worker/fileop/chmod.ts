/**
 * `--chmod` values: octal bits (`0755`, `644`, `4755`) or chmod(1) symbolic modes (`u=rwX,go=rX`,
 * `+x`, `a-w`, `go=u-w`, `g+s`). BuildKit applies the mode to every copied entry, directories
 * included, and reads symbolic modes with a zero umask: `+x` means `a+x`. `X` adds execute when the
 * entry is a directory or already had an execute bit (in its mode before the change), with any op.
 */

/** A parsed chmod value. `octal` replaces the permission bits; `symbolic` edits them. */
export type ModeSpec =
  | { readonly kind: 'octal'; readonly bits: number }
  | { readonly kind: 'symbolic'; readonly ops: readonly SymbolicOp[] };

type Op = '+' | '-' | '=';
type Class = 'u' | 'g' | 'o';

interface SymbolicOp {
  readonly op: Op;
  /** Classes named before the op (u=4, g=2, o=1); 0 means none named (all, umask 0). */
  readonly who: number;
  /** Permission letters from `rwxXst`, or empty when `copyFrom` is set. */
  readonly perms: string;
  readonly copyFrom: Class | undefined;
}

const U = 4;
const G = 2;
const O = 1;
const SHIFT: Record<Class, number> = { u: 6, g: 3, o: 0 };

/** Parses a chmod value; undefined when it is malformed. */
export function parseModeSpec(spec: string): ModeSpec | undefined {
  if (spec === '') return undefined;
  if (/^[0-9]/.test(spec)) {
    if (!/^[0-7]+$/.test(spec)) return undefined;
    const bits = parseInt(spec, 8);
    return bits <= 0o7777 ? { kind: 'octal', bits } : undefined;
  }
  const ops: SymbolicOp[] = [];
  for (const clause of spec.split(',')) {
    let i = 0;
    let who = 0;
    for (; i < clause.length && 'ugoa'.includes(clause[i] as string); i++) {
      const c = clause[i];
      who |= c === 'u' ? U : c === 'g' ? G : c === 'o' ? O : U | G | O;
    }
    if (i >= clause.length) return undefined;
    while (i < clause.length) {
      const op = clause[i];
      if (op !== '+' && op !== '-' && op !== '=') return undefined;
      i++;
      const next = clause[i];
      if (next === 'u' || next === 'g' || next === 'o') {
        ops.push({ op, who, perms: '', copyFrom: next });
        i++;
        continue;
      }
      let perms = '';
      for (; i < clause.length && 'rwxXst'.includes(clause[i] as string); i++) perms += clause[i];
      ops.push({ op, who, perms, copyFrom: undefined });
    }
  }
  return { kind: 'symbolic', ops };
}

/** Spreads 3 rwx bits over the given classes. */
function spread(rwx: number, classes: number): number {
  let bits = 0;
  if (classes & U) bits |= rwx << 6;
  if (classes & G) bits |= rwx << 3;
  if (classes & O) bits |= rwx;
  return bits;
}

/**
 * The permission and special bits (07777) an entry gets. `mode` is its current mode (st_mode; type
 * bits are ignored), `isDir` whether it is a directory.
 */
export function applyModeSpec(spec: ModeSpec, mode: number, isDir: boolean): number {
  if (spec.kind === 'octal') return spec.bits;
  const original = mode & 0o7777;
  let m = original;
  for (const op of spec.ops) {
    const classes = op.who === 0 ? U | G | O : op.who;
    let bits = 0;
    if (op.copyFrom !== undefined) {
      bits = spread((m >> SHIFT[op.copyFrom]) & 7, classes);
    } else {
      for (const p of op.perms) {
        if (p === 'r') bits |= spread(4, classes);
        else if (p === 'w') bits |= spread(2, classes);
        else if (p === 'x') bits |= spread(1, classes);
        else if (p === 'X') {
          if (isDir || (original & 0o111) !== 0) bits |= spread(1, classes);
        } else if (p === 's') {
          if (classes & U) bits |= 0o4000;
          if (classes & G) bits |= 0o2000;
        } else if (p === 't') {
          // As BSD setmode: sticky is ignored when only "other" is named.
          if (op.who === 0 || (op.who & (U | G)) !== 0) bits |= 0o1000;
        }
      }
    }
    switch (op.op) {
      case '+':
        m |= bits;
        break;
      case '-':
        m &= ~bits;
        break;
      case '=': {
        let clear = spread(7, classes);
        if (classes & U) clear |= 0o4000;
        if (classes & G) clear |= 0o2000;
        if (op.perms.includes('t')) clear |= 0o1000;
        m = (m & ~clear) | bits;
        break;
      }
    }
  }
  return m & 0o7777;
}
