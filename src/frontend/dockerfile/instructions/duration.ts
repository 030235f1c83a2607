/**
 * Go's time.ParseDuration syntax (`1h30m`, `1.5s`, `300ms`, `-2m`), which Docker uses for HEALTHCHECK
 * flags. Returns nanoseconds; throws a plain Error whose message says what is wrong.
 */

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX = (1n << 63n) - 1n;
const PART = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]+)/;

export function parseGoDuration(input: string): number {
  let s = input;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`invalid duration "${input}"`);
  let total = 0n;
  while (s !== '') {
    const m = PART.exec(s);
    if (!m) throw new Error(/^[0-9.]+$/.test(s) ? `missing unit in duration "${input}"` : `invalid duration "${input}"`);
    const [whole, intPart = '', fracPart = '', unit = ''] = m;
    if (intPart === '' && fracPart === '') throw new Error(`invalid duration "${input}"`);
    const scale = UNITS[unit];
    if (scale === undefined) {
      throw new Error(unit === '' ? `missing unit in duration "${input}"` : `unknown unit "${unit}" in duration "${input}"`);
    }
    let v = BigInt(intPart || '0') * scale;
    if (fracPart !== '') v += (BigInt(fracPart) * scale) / 10n ** BigInt(fracPart.length);
    total += v;
    if (total > MAX) throw new Error(`invalid duration "${input}" (overflows int64 nanoseconds)`);
    s = s.slice(whole.length);
  }
  return Number(neg ? -total : total);
}

/** Go's Duration.String() (`1m30s`, `500ms`, `0s`), for history and messages. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = BigInt(Math.abs(ns));
  let out: string;
  if (n < 1_000_000_000n) {
    const units: [bigint, string][] = [[1_000_000n, 'ms'], [1_000n, 'µs'], [1n, 'ns']];
    const [scale, name] = units.find(([sc]) => n >= sc) ?? [1n, 'ns'];
    out = `${fraction(n, scale)}${name}`;
  } else {
    const h = n / 3_600_000_000_000n;
    n -= h * 3_600_000_000_000n;
    const m = n / 60_000_000_000n;
    n -= m * 60_000_000_000n;
    out = `${h > 0n ? `${h}h` : ''}${h > 0n || m > 0n ? `${m}m` : ''}${fraction(n, 1_000_000_000n)}s`;
  }
  return neg ? `-${out}` : out;
}

function fraction(n: bigint, scale: bigint): string {
  const whole = n / scale;
  const rest = n % scale;
  if (rest === 0n) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
