/** Number formats shared by the renderers, matching BuildKit's progress output. */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'] as const;

/**
 * Bytes as BuildKit prints them (`%.2f` of go-units decimal sizes): `512B`, `31.50kB`, `1.23MB`.
 * Below 1000 the plain integer, else two decimals of the largest unit ≤ the value.
 */
export function formatBytes(n: number): string {
  const v = Math.trunc(n);
  if (Math.abs(v) < 1000) return `${v}B`;
  let i = 0;
  let base = 1;
  while (i < DECIMAL_UNITS.length - 1 && Math.abs(v) >= base * 1000) {
    base *= 1000;
    i++;
  }
  return `${(v / base).toFixed(2)}${DECIMAL_UNITS[i]}`;
}

/** Seconds since the step started, for a log line: 3 decimals below 10s, 2 below 100s, else 1. */
export function formatLogTime(ms: number): string {
  const sec = Math.max(0, ms) / 1000;
  const prec = sec < 10 ? 3 : sec < 100 ? 2 : 1;
  return sec.toFixed(prec);
}

/** `0.4s`: one decimal of seconds. */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
