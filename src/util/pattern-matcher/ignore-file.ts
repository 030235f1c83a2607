/**
 * Reading an ignore file (`.dockerignore`, `<Dockerfile>.dockerignore`) into patterns, as Docker's
 * `ignorefile.ReadAll` does: BOM stripped, `#` in column 0 starts a comment, lines trimmed, blank
 * lines dropped, each pattern cleaned, one leading `/` removed (patterns are relative to the context
 * root), `!` kept in front of exceptions.
 */
import { PatternSyntaxError } from './errors.js';
import { goClean, goTrimSpace } from './go-compat.js';
import type { IgnoreEntry } from './types.js';

/** Go's bufio.Scanner refuses lines of 64 KiB or more; Docker then fails to read the file. */
const MAX_LINE_BYTES = 64 * 1024 - 1;

/** The patterns of an ignore file with their line numbers. Throws PatternSyntaxError for an overlong line. */
export function readIgnoreFileEntries(text: string): IgnoreEntry[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: IgnoreEntry[] = [];
  lines.forEach((rawLine, index) => {
    let line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      throw new PatternSyntaxError(line.slice(0, 40), `line ${index + 1} is too long (64 KiB or more)`);
    }
    if (index === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    // Comments are recognised before trimming: "  #x" is a pattern.
    if (line.startsWith('#')) return;
    let pattern = goTrimSpace(line);
    if (pattern === '') return;
    const invert = pattern[0] === '!';
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern[0] === '/') pattern = pattern.slice(1);
    }
    out.push({ pattern: invert ? `!${pattern}` : pattern, line: index + 1 });
  });
  return out;
}

/** The patterns of an ignore file; undefined (no file) gives none. */
export function readIgnoreFile(text: string | undefined): string[] {
  if (text === undefined) return [];
  return readIgnoreFileEntries(text).map((e) => e.pattern);
}
