/**
 * The contract's types for the builds a daemon runs now: `listBuilds` (ListBuilds, `tsbuild builds`)
 * and `attach` (Status, `tsbuild attach REF`). Plain data; times are milliseconds since the epoch.
 * These have no engine twin: an embedded engine serves only its own process's builds, which no
 * other client can reach, so the embedded client lists none and attaches to none.
 */

/** One running build, as ListBuilds reports it. */
export interface RunningBuildSummary {
  /** What `attach` takes (the Solve's `accepted` ref). */
  readonly ref: string;
  /** Who started it: the token's name, the client certificate's subject, or "local" (unix socket). */
  readonly client: string;
  /** `-t` names as given. */
  readonly tags: readonly string[];
  /** `--target`; empty: the last stage. */
  readonly target: string;
  /** The Dockerfile's name as the client gave it. */
  readonly dockerfile: string;
  readonly startedMs: number;
  /** Steps reported so far, and how many of them finished (cached ones included) or came from the cache. */
  readonly steps: { readonly total: number; readonly done: number; readonly cached: number };
  /** Clients attached to it now. */
  readonly attached: number;
}

export interface AttachRequest {
  /** The running build's ref. */
  readonly ref: string;
}
