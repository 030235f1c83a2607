/**
 * Sizes and durations as the docker CLI prints and reads them: `1.06MB` (decimal units, three
 * significant digits), `About a minute ago`, and flag values like `2GB`, `500MiB`, `24h`, `30m`.
 */
import { UsageError } from '../../src/util/errors.js';

export { humanSize } from '../../src/util/human-size.js';

/** docker's HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "5 minutes ago" for an ISO time (or ms since the epoch); "N/A" when unknown. */
export function since(time: string | number | undefined, now: number = Date.now()): string {
  if (time === undefined) return 'N/A';
  const t = typeof time === 'number' ? time : Date.parse(time);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(Math.max(0, now - t))} ago`;
}

/** docker's CreatedAt column: `2024-05-01 10:20:30 +0000 UTC`. */
export function dockerTimestamp(time: string | number | undefined): string {
  if (time === undefined) return '';
  const d = new Date(typeof time === 'number' ? time : Date.parse(time));
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

const SIZE_RE = /^(\d+(?:\.\d+)?) ?([kmgtpe])?(i)?(b)?$/i;
const SIZE_POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * A size flag value: bytes, or a number with k/M/G/T/P (optionally followed by `i` and/or `B`,
 * any case). Units are binary (1GB = 1024³ bytes), as docker's RAMInBytes reads --keep-storage.
 */
export function parseSize(value: string, flag: string): number {
  const m = SIZE_RE.exec(value.trim());
  if (!m) throw new UsageError(`invalid value "${value}" for --${flag}: expected a size such as 512MB, 2GB or 500MiB`);
  const n = Number(m[1]);
  const unit = m[2]?.toLowerCase();
  const bytes = Math.floor(n * 1024 ** (unit ? (SIZE_POWERS[unit] ?? 0) : 0));
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`invalid value "${value}" for --${flag}: too large`);
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h|d)/y; // \u00b5: the bundles stay ASCII (scripts/bundle.mjs)

/** A duration flag value in Go's syntax (`24h`, `30m`, `1h30m`, `90s`), plus `d` for days. In ms. */
export function parseDuration(value: string, flag: string): number {
  const bad = (): UsageError => new UsageError(`invalid value "${value}" for --${flag}: expected a duration such as 30m, 24h or 7d`);
  const s = value.trim();
  if (s === '' ) throw bad();
  if (s === '0') return 0;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  let at = 0;
  while (at < s.length) {
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(s);
    if (!m) throw bad();
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    at = DURATION_PART.lastIndex;
  }
  return Math.round(total);
}
