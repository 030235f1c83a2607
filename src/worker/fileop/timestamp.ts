/**
 * The `timestamp` field of file actions. tsbuild's LLB carries Unix seconds (int64 decodes to a JS
 * number; nanoseconds since 1970 do not fit in one exactly). BuildKit's definitions carry
 * nanoseconds, so values of 1e15 and above — year 31 million in seconds, 11 days in nanoseconds —
 * are read as nanoseconds. `-1`, null, and a field the message did not carry mean "no override".
 */

const NANOSECOND_THRESHOLD = 1e15;

/** The override in Unix seconds, or undefined to keep source times / use now. */
export function timestampSeconds(action: { readonly timestamp?: number | null | undefined }): number | undefined {
  if (!Object.hasOwn(action, 'timestamp')) return undefined;
  const ts = action.timestamp;
  if (ts == null || ts === -1 || !Number.isFinite(ts)) return undefined;
  return Math.abs(ts) >= NANOSECOND_THRESHOLD ? ts / 1e9 : ts;
}
