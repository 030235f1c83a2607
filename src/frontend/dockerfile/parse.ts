/**
 * The Dockerfile parser's public entry points. `parseDockerfile` follows BuildKit's parser
 * (frontend/dockerfile/parser) closely enough that `dumpAST` reproduces its golden files byte for
 * byte; see docs/parser.md for the design and the few deliberate differences.
 */
import type { DockerfileAST } from './ast.js';
import { FileParser } from './file-parser.js';
import { decodeUtf8Lossless } from '../../util/utf8-lossless.js';

export { dumpAST, dumpInstruction } from './dump.js';
export { chompHeredocContent, heredocsFromLine, parseHeredoc, type HeredocMarker } from './heredoc.js';
export { detectSyntax, parseDirective, type DetectedDirective } from './directives.js';
export { MAX_LINE_BYTES, PARSE_ERROR_CODE } from './file-parser.js';
export { decodeUtf8Lossless, encodeUtf8Lossless } from '../../util/utf8-lossless.js';

export interface ParseOptions {
  /** The file name as the user gave it; used in error locations and kept in the AST. */
  readonly file: string;
}

/**
 * Parses a Dockerfile. Throws UserInputError (code `DOCKERFILE_PARSE`, located at file:line:column
 * with the offending line) on syntax errors; never throws anything else for any input.
 *
 * Bytes are decoded as UTF-8; a byte that is not valid UTF-8 becomes U+DC80+byte in the AST's
 * strings (decodeUtf8Lossless), which encodeUtf8Lossless turns back into the original byte.
 */
export function parseDockerfile(source: string | Buffer, opts: ParseOptions): DockerfileAST {
  const text = typeof source === 'string' ? normalizeString(source) : decodeUtf8Lossless(source);
  return new FileParser({ text, file: opts.file }).parse();
}

/**
 * `parseDockerfile` for long files in a process that must answer signals: the event loop runs every
 * few thousand instructions, and an aborted `signal` stops the parse with a CancelledError.
 */
export function parseDockerfileAsync(source: string | Buffer, opts: ParseOptions & { readonly signal?: AbortSignal }): Promise<DockerfileAST> {
  const text = typeof source === 'string' ? normalizeString(source) : decodeUtf8Lossless(source);
  return new FileParser({ text, file: opts.file }).parseAsync(opts.signal);
}

/**
 * A string is taken as already decoded by decodeUtf8Lossless: lone U+DC80..U+DCFF stand for bytes;
 * any other unpaired surrogate could not come from a file and becomes U+FFFD, as UTF-8 would make it.
 */
function normalizeString(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udc7f\udd00-\udfff]/g, '\ufffd');
}
