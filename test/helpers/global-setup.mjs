// @ts-check
/**
 * Jest global setup. In strict mode (TSBUILD_STRICT_TESTS=1, CI) the run stops before any test
 * when the machine lacks something a test needs, one line per missing thing; otherwise it does
 * nothing (suites skip visibly, see skip.ts).
 */
import { STRICT_ENV, missingLine, missingRequirements, strictTests, testRequirements } from './requirements.mjs';

export default function globalSetup() {
  if (!strictTests) return;
  const missing = missingRequirements(testRequirements);
  if (missing.length === 0) return;
  process.stderr.write(`\n${missing.map(missingLine).join('\n')}\n`);
  throw new Error(`strict mode (${STRICT_ENV}=1): ${missing.length} test requirement(s) missing, listed above; no test was run`);
}
