/**
 * Column output the way the docker CLI lays it out (Go's tabwriter with minimum width 10 and
 * padding 3): every column but the last padded to its widest cell plus three spaces.
 */
const MIN_WIDTH = 10;
const PADDING = 3;

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(MIN_WIDTH, ...all.map((r) => (r[c] ?? '').length + PADDING)));
  return all
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] as number))).join('').trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}

/** docker's Ellipsis: cut to `max` characters, the last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}
