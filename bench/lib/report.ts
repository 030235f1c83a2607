/**
 * Turning measurements into the printed report: medians, ratios, human units, aligned tables, and
 * the machine line (date, cores, load) that every figure must be read against.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { release } from 'node:os';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Seconds with 2 decimals (or ms below 1 s), or "-" for a missing figure. */
export function seconds(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '-';
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0) return '-';
  return `${(a / b).toFixed(2)}x`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u] as string}`;
}

/** An aligned text table: the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Date, kernel, cores, memory and load: the context every figure needs. */
export function machineLine(): string {
  const load = loadavg().map((l) => l.toFixed(2)).join(', ');
  return `${new Date().toISOString()}  linux ${release()}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown cpu'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${load}`;
}

export function loadLine(): string {
  return `load average ${loadavg().map((l) => l.toFixed(2)).join(', ')}`;
}

/** One line of the report on stdout. */
export const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/** One progress line on stderr (kept out of the report). */
export const note = (s: string): void => {
  process.stderr.write(`${s}\n`);
};
