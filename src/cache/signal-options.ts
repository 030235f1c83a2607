/** The options every async API of the cache layer takes (its own file: the type files all use it). */
export interface SignalOptions {
  readonly signal?: AbortSignal;
}
