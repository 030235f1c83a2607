// @ts-check
/**
 * Jest reporter that keeps skipped tests from going unnoticed. At the end of a run it counts the
 * tests Jest did not run (skipped, pending, todo) and groups them by the reason their names carry
 * (skip.ts puts "SKIPPED: why" in them). Locally it prints that summary. In strict mode
 * (TSBUILD_STRICT_TESTS=1, set by .ci/run) it lists every one and fails the run: a CI run must not
 * pass by running less. Plain JavaScript because Jest loads reporters without transforming them.
 */

import { STRICT_ENV, strictTests } from './requirements.mjs';
const NOT_RUN = new Set(['skipped', 'pending', 'todo', 'disabled']);

/**
 * @param {{ title: string, status: string }} t
 * @param {boolean} filtered a -t filter is set (it skips the tests it does not match)
 * @returns {string}
 */
function skipReason(t, filtered) {
  const m = /\((?:SKIPPED|MISSING): (.*)\)$/.exec(t.title) ?? /^(?:SKIPPED|MISSING): (.*)$/.exec(t.title);
  if (m?.[1]) return m[1];
  if (t.status === 'todo') return 'test.todo';
  return filtered ? 'not matched by -t (or test.skip)' : 'no reason given (test.skip, or a .only elsewhere in its file)';
}

/**
 * The tests of a run that did not run, with the file (relative to rootDir) and reason.
 * @param {import('@jest/test-result').AggregatedResult} results
 * @param {string} rootDir
 * @param {boolean} filtered
 * @returns {Array<{ file: string, name: string, reason: string }>}
 */
function notRunTests(results, rootDir, filtered) {
  const out = [];
  for (const file of results.testResults) {
    const rel = file.testFilePath.startsWith(`${rootDir}/`) ? file.testFilePath.slice(rootDir.length + 1) : file.testFilePath;
    for (const t of file.testResults) {
      if (NOT_RUN.has(t.status)) out.push({ file: rel, name: t.fullName, reason: skipReason(t, filtered) });
    }
  }
  return out;
}

export default class SkipReporter {
  /** @type {Error | undefined} */
  #error;
  /** @type {import('@jest/types').Config.GlobalConfig} */
  #config;

  /** @param {import('@jest/types').Config.GlobalConfig} globalConfig */
  constructor(globalConfig) {
    this.#config = globalConfig;
  }

  /**
   * @param {unknown} _contexts
   * @param {import('@jest/test-result').AggregatedResult} results
   */
  onRunComplete(_contexts, results) {
    // With -t the user asked for a subset: the rest is skipped on purpose.
    const filtered = Boolean(this.#config.testNamePattern);
    const skipped = notRunTests(results, this.#config.rootDir, filtered);
    if (skipped.length === 0) return;
    const lines = [];
    if (strictTests && !filtered) {
      lines.push(`STRICT: ${skipped.length} test(s) did not run; in strict mode (${STRICT_ENV}=1) any skip fails the run:`);
      for (const s of skipped) lines.push(`  ${s.file} › ${s.name} [${s.reason}]`);
      this.#error = new Error(`strict mode: ${skipped.length} test(s) skipped`);
    } else {
      /** @type {Map<string, number>} */
      const byReason = new Map();
      for (const s of skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
      const note = filtered ? 'a -t filter is set, so skips do not fail the run' : `${STRICT_ENV}=1 makes skips fail`;
      lines.push(`SKIPPED ${skipped.length} of ${results.numTotalTests} tests (${note}):`);
      for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) lines.push(`  ${n} × ${reason}`);
    }
    process.stderr.write(`\n${lines.join('\n')}\n`);
  }

  getLastError() {
    return this.#error;
  }
}
