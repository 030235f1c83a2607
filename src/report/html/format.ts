/**
 * Numbers as the HTML pages show them in their tables: sizes in decimal units with three
 * significant digits (as the docker CLI and `tsbuild report` print them), times in seconds, ratios
 * in percent. The charts format their axes in the page script (page-assets.ts), the same way.
 */
import { humanSize } from '../../util/human-size.js';

export function formatBytes(bytes: number | null): string {
  return bytes === null ? '-' : humanSize(bytes);
}

export function formatMs(ms: number | null): string {
  return ms === null ? '?' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${(ratio * 100).toFixed(1)}%`;
}
