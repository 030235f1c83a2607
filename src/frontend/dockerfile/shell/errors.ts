/** The error every shell-word expansion failure becomes. */
import { UserInputError } from '../../../util/errors.js';
import type { SourceLocation } from '../../../util/errors.js';

export interface ShellExpansionErrorOptions {
  /** The word as written (before expansion). */
  readonly word: string;
  /** What went wrong, e.g. `syntax error: missing '}'` or, for `${X?msg}`, `X: msg` with msg expanded. */
  readonly reason: string;
  readonly location?: SourceLocation;
  readonly sourceLine?: string;
  readonly cause?: unknown;
}

/**
 * Bad `$…` syntax, an unterminated quote, or a `${X?msg}` / `${X:?msg}` whose variable is unset (or
 * empty). Message: `failed to process "<word>": <reason>`, as BuildKit words it.
 */
export class ShellExpansionError extends UserInputError {
  readonly word: string;
  readonly reason: string;

  constructor(opts: ShellExpansionErrorOptions) {
    super('SHELL_EXPANSION', `failed to process ${JSON.stringify(opts.word)}: ${opts.reason}`, {
      ...(opts.location === undefined ? {} : { location: opts.location }),
      ...(opts.sourceLine === undefined ? {} : { sourceLine: opts.sourceLine }),
      ...(opts.cause === undefined ? {} : { cause: opts.cause }),
    });
    this.name = 'ShellExpansionError';
    this.word = opts.word;
    this.reason = opts.reason;
  }

  /** The same error located in a Dockerfile (the lexer does not know where its word came from). */
  at(location: SourceLocation, sourceLine?: string): ShellExpansionError {
    return new ShellExpansionError({
      word: this.word,
      reason: this.reason,
      location,
      ...(sourceLine === undefined ? {} : { sourceLine }),
      ...(this.cause === undefined ? {} : { cause: this.cause }),
    });
  }
}
