/**
 * Conditional suites that skip *visibly*: when a requirement is missing the suite still registers
 * one skipped test whose name says why, and a line goes to stderr.
 */
import { describe, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';

export function describeIf(ok: boolean, why: string, name: string, fn: () => void): void {
  if (ok) {
    describe(name, fn);
    return;
  }
  process.stderr.write(`SKIPPED ${name}: ${why}\n`);
  describe(name, () => {
    test.skip(`SKIPPED: ${why}`, () => undefined);
  });
}

/** True when `bin` is on PATH. */
export function haveBinary(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const isRoot = process.getuid?.() === 0;
