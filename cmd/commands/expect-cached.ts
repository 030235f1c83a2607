/**
 * `tsbuild build --expect-cached[=STEP]`: a CI check that a rebuild is served from the cache. It
 * watches the build's progress stream (so it works embedded and through the daemon alike, with
 * nothing new on the wire): the first Dockerfile step that starts executing and matches the
 * expectation aborts the build, and the build fails naming that step and why it missed (the
 * explainer's reason from the build history). STEP is a case-sensitive substring of the step's
 * instruction as shown in progress (`RUN npm ci`, `COPY . /src`); no STEP means every step.
 */
import { TsbuildError } from '../../src/util/errors.js';
import type { ProgressEvent } from '../../src/progress/index.js';
import { isBookkeeping } from '../../src/progress/epilogue.js';

export interface CacheViolation {
  /** The step's instruction (`RUN rm /big`), without its `[stage n/m]` prefix. */
  readonly step: string;
  readonly why: string;
}

export class CacheExpectation {
  readonly #patterns: readonly string[];
  readonly #ac: AbortController;
  #violation: CacheViolation | undefined;

  /** `patterns` as given (an empty string means every step); `ac` is aborted on the first violation. */
  constructor(patterns: readonly string[], ac: AbortController) {
    this.#patterns = patterns;
    this.#ac = ac;
  }

  get violation(): CacheViolation | undefined {
    return this.#violation;
  }

  /** Feeds one progress event; aborts the build at the first matching step that executes. */
  observe(e: ProgressEvent): void {
    // Only solver steps say why they missed; bookkeeping ([internal], exporting) never does.
    if (this.#violation || e.type !== 'vertex' || e.state !== 'started' || e.cacheMiss === undefined) return;
    if (isBookkeeping(e.name)) return;
    const step = e.name.replace(/^\[[^\]]*\]\s+/, '');
    if (!this.#patterns.some((p) => p === '' || step.includes(p))) return;
    this.#violation = { step, why: e.cacheMiss };
    this.#ac.abort(this.error());
  }

  /** The error the build fails with. */
  error(): TsbuildError {
    const v = this.#violation;
    return new TsbuildError('CACHE_EXPECTATION_FAILED', v ? `expected a cached build, but step "${v.step}" executed: ${v.why}` : 'expected a cached build');
  }
}
