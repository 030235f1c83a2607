/**
 * Matching COPY/ADD/RUN arguments to the heredocs the parser captured (AST `heredocs`), using the
 * parser's own marker syntax (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`) and `<<-` tab chomping.
 */
import type { Heredoc } from '../ast.js';
import { chompHeredocContent, parseHeredoc } from '../parse.js';

/** The delimiter name if `word` is a heredoc marker, else undefined. */
export function heredocMarkerName(word: string): string | undefined {
  try {
    return parseHeredoc(word)?.name;
  } catch {
    return undefined; // a malformed delimiter is not a marker here; the parser reports it
  }
}

/** The heredoc's body as it is used: chomped for `<<-`. */
export function heredocBody(h: Heredoc): string {
  return h.chomp ? chompHeredocContent(h.content) : h.content;
}
