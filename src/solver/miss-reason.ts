/** The one-line explanation of a cache miss, shown in progress output and build metadata. */
import { assertNever } from '../util/errors.js';
import type { MissReason } from './types.js';

/** The words progress output, build metadata and cache-hit reports show for a miss. */
export function describeMissReason(r: MissReason): string {
  switch (r.kind) {
    case 'no-record':
      return 'no cache record: the instruction, its build args or the files it reads differ from every cached run';
    case 'ignore-cache':
      return 'cache disabled for this step (--no-cache or --no-cache-filter)';
    case 'input-changed':
      return `input ${r.inputName} changed`;
    case 'result-missing':
      return 'cached result was pruned';
    default:
      return assertNever(r, 'miss reason');
  }
}
