/**
 * `instanceof` on tsbuild's error classes across two copies of src/util/errors.ts (the installed
 * CLI's command-line and engine bundles each hold one, scripts/bundle.mjs): an error made by the
 * other copy carries its classes' brands, and each class with a brand accepts it.
 */
import { expect, test } from '@jest/globals';
import { CancelledError, TsbuildError, UsageError, UserInputError, isTsbuildError } from '../../src/util/errors.js';

/** An error as the other copy of the module makes it: another class, the same brands. */
function foreign(brands: readonly string[]): Error {
  const e = new Error('from the other bundle');
  Object.defineProperty(e, Symbol.for('tsbuild.error-brands'), { value: brands });
  return e;
}

test('errors of this copy: instanceof by prototype, as before', () => {
  const e = new UserInputError('X', 'bad');
  expect([e instanceof UserInputError, e instanceof TsbuildError, e instanceof Error, e instanceof UsageError]).toEqual([true, true, true, false]);
  class Local extends UsageError {}
  expect([new Local('x') instanceof Local, new Local('x') instanceof UsageError, new UsageError('x') instanceof Local]).toEqual([true, true, false]);
});

test("errors of the other copy: instanceof by the brands of the classes they were made as", () => {
  const usage = foreign(['UsageError', 'TsbuildError']);
  expect([usage instanceof UsageError, usage instanceof TsbuildError, isTsbuildError(usage), usage instanceof UserInputError, usage instanceof CancelledError]).toEqual([true, true, true, false, false]);
  // A subclass without a brand of its own is known by its branded bases only.
  class Local extends UserInputError {}
  const input = foreign(['UserInputError', 'TsbuildError']);
  expect([input instanceof UserInputError, input instanceof Local]).toEqual([true, false]);
  const nothing: unknown = null;
  expect([new Error('plain') instanceof TsbuildError, (nothing as object) instanceof TsbuildError]).toEqual([false, false]);
});

test('a new error records its brands, base classes included', () => {
  const brands = (e: object): unknown => (e as Record<symbol, unknown>)[Symbol.for('tsbuild.error-brands')];
  expect(brands(new CancelledError())).toEqual(['CancelledError', 'TsbuildError']);
  class Local extends UserInputError {}
  expect(brands(new Local('X', 'y'))).toEqual(['UserInputError', 'TsbuildError']);
});
