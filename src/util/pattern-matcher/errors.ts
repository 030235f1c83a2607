/** Errors of the pattern matcher and the context walker. */
import { TsbuildError, UserInputError } from '../errors.js';
import type { TsbuildErrorOptions } from '../errors.js';

/**
 * A `.dockerignore` (or include) pattern that cannot be used: `!` alone, a malformed glob such as `[`,
 * or a class Go's regexp engine rejects such as `[z-a]`. The message names the pattern.
 */
export class PatternSyntaxError extends UserInputError {
  /** The offending pattern as given. */
  readonly pattern: string;

  constructor(pattern: string, message: string, opts: TsbuildErrorOptions = {}) {
    super('PATTERN_SYNTAX', message, opts);
    this.name = 'PatternSyntaxError';
    this.pattern = pattern;
  }
}

/** The context directory could not be walked (unreadable directory that is not excluded, vanished root…). */
export class ContextWalkError extends TsbuildError {
  constructor(message: string, opts: TsbuildErrorOptions = {}) {
    super('CONTEXT_WALK', message, opts);
    this.name = 'ContextWalkError';
  }
}
