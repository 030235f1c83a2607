/**
 * The errors of receiving a client's context on the Solve stream (solve-context-sync.ts and the
 * modules around it): a listed path that would leave the copy is the user's input, anything else
 * out of order is the client breaking the protocol.
 */
import { TsbuildError, UserInputError } from '../util/errors.js';

export const SolveContextErrors = {
  badPath: (path: string) => new UserInputError('CONTEXT_BAD_PATH', `the client listed an invalid context path ${JSON.stringify(path)}`),
  protocol: (why: string) => new TsbuildError('SOLVE_PROTOCOL', `Solve: ${why}`),
} as const;
