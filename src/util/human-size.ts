/**
 * Sizes as the docker CLI prints them (`1.06MB`: decimal units, three significant digits). One
 * home for the command line's tables and the HTML report pages.
 */

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'] as const;

/** `137B`, `2.05kB`, `1.06MB`: docker's HumanSize (decimal units, 3 significant digits). */
export function humanSize(bytes: number): string {
  let v = Math.max(0, bytes);
  let u = 0;
  while (v >= 1000 && u < DECIMAL_UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  let shown = Number(v.toPrecision(3));
  // 999.9 kB rounds to 1000: show it as 1MB rather than docker's "1e+03kB".
  if (shown >= 1000 && u < DECIMAL_UNITS.length - 1) {
    shown = Number((shown / 1000).toPrecision(3));
    u++;
  }
  return `${shown}${DECIMAL_UNITS[u] as string}`;
}
