/**
 * Numbers as the HTML pages show them in their tables: sizes in decimal units with three
 * significant digits (as the docker CLI and `tsbuild report` print them), times in seconds, ratios
 * in percent. The charts format their axes in the page script (page-assets.ts), the same way.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  let v = Math.max(0, bytes);
  let u = 0;
  while (v >= 999.5 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))}${UNITS[u] as string}`;
}

export function formatMs(ms: number | null): string {
  return ms === null ? '?' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${(ratio * 100).toFixed(1)}%`;
}
