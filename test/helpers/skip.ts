/**
 * Conditional tests that skip *visibly*: when a requirement is missing the suite still registers
 * one skipped test whose name says why, and a line goes to stderr; skip-reporter.mjs sums them up
 * at the end. In strict mode (requirements.mjs) the same call registers a failing test instead, so
 * a CI run cannot pass by skipping.
 */
import { describe, test } from '@jest/globals';
import { STRICT_ENV, strictTests } from './requirements.mjs';

export { haveBinary, isRoot } from './requirements.mjs';

function strictError(what: string, why: string): Error {
  return new Error(`strict mode (${STRICT_ENV}=1): ${what} cannot run: ${why}`);
}

/** `describe(name, fn)` when `ok`; otherwise one skipped test (one failing test in strict mode). */
export function describeIf(ok: boolean, why: string, name: string, fn: () => void): void {
  if (ok) {
    describe(name, fn);
    return;
  }
  if (strictTests) {
    process.stderr.write(`MISSING ${name}: ${why}\n`);
    describe(name, () => {
      test(`MISSING: ${why}`, () => {
        throw strictError(`"${name}"`, why);
      });
    });
    return;
  }
  process.stderr.write(`SKIPPED ${name}: ${why}\n`);
  describe(name, () => {
    test.skip(`SKIPPED: ${why}`, () => undefined);
  });
}

/** `test(name, fn)` when `ok`; otherwise skipped with `why` in its name (failing in strict mode). */
export function testIf(ok: boolean, why: string, name: string, fn: () => Promise<void> | void, timeoutMs?: number): void {
  if (ok) {
    test(name, fn, timeoutMs);
    return;
  }
  if (strictTests) {
    test(`${name} (MISSING: ${why})`, () => {
      throw strictError(`"${name}"`, why);
    });
    return;
  }
  test.skip(`${name} (SKIPPED: ${why})`, () => undefined);
}

/**
 * For a part of a test (extra seeds, an extra assertion) that needs something optional: true when
 * `ok`; otherwise a SKIPPED line on stderr and false, or, in strict mode, a thrown error (which
 * fails the test, or the whole file when called at load time).
 */
export function partIf(ok: boolean, why: string, what: string): boolean {
  if (ok) return true;
  if (strictTests) throw strictError(what, why);
  process.stderr.write(`SKIPPED part ${what}: ${why}\n`);
  return false;
}
