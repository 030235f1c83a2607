/**
 * A chart as data: what renderReportHtml and renderCompareHtml decide to draw, embedded in the page's
 * JSON block and turned into Chart.js bar charts by the page script (page-assets.ts). Keeping the
 * choice of series in TypeScript keeps the page script generic and the charts testable as data.
 */

export interface ChartDataset {
  readonly label: string;
  /** One value per label, in the chart's unit. */
  readonly data: readonly number[];
  /** Datasets with the same stack id pile up when the chart is stacked (default: all in one). */
  readonly stack?: string;
  /** A CSS colour; default: the page palette by dataset index. */
  readonly color?: string;
}

export interface ChartSpec {
  /** The canvas element id (unique in the page). */
  readonly id: string;
  readonly title: string;
  /** How the value axis and tooltips show numbers. */
  readonly unit: 'bytes' | 'ms';
  readonly stacked: boolean;
  /** Bars along the y axis (for long category labels such as instructions). */
  readonly horizontal: boolean;
  readonly labels: readonly string[];
  readonly datasets: readonly ChartDataset[];
  /** A sentence under the chart saying what it shows. */
  readonly caption: string;
}

/** Category labels stay readable on an axis: long instructions are cut with an ellipsis. */
export function axisLabel(s: string, max = 48): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

export const COLORS = {
  executed: '#d9534f',
  cached: '#5cb85c',
  saved: '#b8e0b8',
  kept: '#4a7fb5',
  wasted: '#f0ad4e',
} as const;
