/** Placeholder until the HTML compare page is merged (drop this commit at merge). */
import type { CompareReport } from '../compare-types.js';
import { TsbuildError } from '../../util/errors.js';

export function renderCompareHtml(_report: CompareReport): string {
  throw new TsbuildError('NOT_BUILT_YET', 'compare --format html: not built yet');
}
