/**
 * Plain HTML tables for the report pages: they carry every number the charts show, so a page reads
 * without JavaScript. Cells are text (escaped here); numeric columns align right.
 */
import { escapeHtml } from './escape.js';

export interface Column {
  readonly title: string;
  /** Right-aligned (numbers). */
  readonly num?: boolean;
}

export function htmlTable(caption: string, columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cls = (c: Column | undefined): string => (c?.num === true ? ' class="num"' : '');
  const head = columns.map((c) => `<th scope="col"${cls(c)}>${escapeHtml(c.title)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell, i) => `<td${cls(columns[i])}>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<caption>${escapeHtml(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** A bulleted list of text lines (miss reasons); `empty` when there are none. */
export function htmlList(lines: readonly string[], empty: string): string {
  if (lines.length === 0) return `<p>${escapeHtml(empty)}</p>`;
  return `<ul>\n${lines.map((l) => `<li><code>${escapeHtml(l)}</code></li>`).join('\n')}\n</ul>`;
}
