/**
 * Escaping for the self-contained HTML pages: text and attribute values, and JSON placed inside a
 * `<script type="application/json">` block. A script element's text ends at the first `</script`
 * whatever the quoting, so JSON is made safe by writing `<`, `>`, `&` and the two JavaScript line
 * separators as `\uXXXX` escapes: JSON.parse reads them back unchanged.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** `value` as JSON that may stand as the text of a script element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * JavaScript source as the text of a script element. Refuses what would end or confuse the element
 * (`</script`, `<!--`) rather than rewriting code it does not parse.
 */
export function scriptText(js: string): string {
  if (/<\/script|<!--/i.test(js)) throw new Error('script source holds </script or <!--; it cannot be inlined as is');
  return js;
}
