/**
 * The exec (JSON array) form of RUN/CMD/ENTRYPOINT/SHELL/ADD/COPY/VOLUME/HEALTHCHECK, with Docker's
 * fallbacks: text that is not valid JSON is not an error, it is the shell form; a valid JSON array
 * holding anything but strings is an error. Validity follows Go's encoding/json (only ` \t\n\r`
 * whitespace, nesting depth at most 10000, numbers that overflow float64 make decoding fail).
 */
import { parseTokens } from './cst-parser.js';
import { visitExecForm, type ExecElement } from './cst-visitor.js';
import { isEscapedByte } from '../../util/utf8-lossless.js';
import { isGoSpace } from './go-text.js';
import { jsonLexer, JsonNumber, JsonString, LBrace, LBracket, RBrace, RBracket, Comma } from './tokens.js';
import type { IToken } from 'chevrotain';
import { tokenMatcher } from './chevrotain.js';

export type ExecFormResult =
  /** A JSON array of strings. */
  | { readonly kind: 'json'; readonly values: readonly string[] }
  /** Not a JSON array: the caller uses the shell form. */
  | { readonly kind: 'notJson' }
  /** A JSON array with a non-string element at `offset` (in the text given). */
  | { readonly kind: 'nonString'; readonly offset: number };

/** Go's encoding/json maximum nesting depth. */
const GO_MAX_DEPTH = 10000;
/** Deeper arrays are checked without the (recursive) Chevrotain grammar, to bound stack use. */
const MAX_GRAMMAR_DEPTH = 64;

export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** A JSON string without escapes (any other character JSON allows in a string). */
const SIMPLE_STRING = /"[^"\\\x00-\x1f]*"/g;
/** A whole JSON array of such strings (JSON whitespace only). */
const SIMPLE_ARRAY = /^\[[ \t\n\r]*(?:"[^"\\\x00-\x1f]*"(?:[ \t\n\r]*,[ \t\n\r]*"[^"\\\x00-\x1f]*")*[ \t\n\r]*)?\]$/;

/** Parses `text` (leading whitespace allowed) as an exec-form array. */
export function parseExecForm(text: string): ExecFormResult {
  let start = 0;
  while (start < text.length && isGoSpace(text.charCodeAt(start))) start++;
  if (text[start] !== '[') return { kind: 'notJson' };
  const body = start === 0 ? text : text.slice(start);
  if (SIMPLE_ARRAY.test(body)) {
    // The usual exec form: what the grammar yields for it, without its tokens and CST.
    return { kind: 'json', values: (body.match(SIMPLE_STRING) ?? []).map((s) => goJsonUnquote(s)) };
  }
  const lexed = jsonLexer.tokenize(body);
  if (lexed.errors.length > 0) return { kind: 'notJson' };
  const tokens = lexed.tokens;

  let depth = 0;
  let maxDepth = 0;
  for (const t of tokens) {
    if (tokenMatcher(t, LBracket) || tokenMatcher(t, LBrace)) {
      depth++;
      if (depth > maxDepth) maxDepth = depth;
    } else if (tokenMatcher(t, RBracket) || tokenMatcher(t, RBrace)) {
      depth--;
    } else if (tokenMatcher(t, JsonNumber) && !Number.isFinite(Number(t.image))) {
      return { kind: 'notJson' }; // Go: "cannot unmarshal number ... into float64"
    }
  }
  if (maxDepth > GO_MAX_DEPTH) return { kind: 'notJson' };

  let elements: ExecElement[];
  if (maxDepth <= MAX_GRAMMAR_DEPTH) {
    const cst = parseTokens(tokens, 'jsonArray');
    if (!cst) return { kind: 'notJson' };
    elements = visitExecForm(cst);
  } else {
    // V8's JSON.parse is iterative and accepts exactly the JSON grammar Go's scanner does.
    try {
      JSON.parse(body);
    } catch {
      return { kind: 'notJson' };
    }
    elements = topLevelElements(tokens);
  }

  const values: string[] = [];
  for (const el of elements) {
    if (el.kind !== 'string') return { kind: 'nonString', offset: start + el.offset };
    values.push(goJsonUnquote(el.image));
  }
  return { kind: 'json', values };
}

/** The first token of each element of the outermost array, for a token list known to be valid. */
function topLevelElements(tokens: IToken[]): ExecElement[] {
  const out: ExecElement[] = [];
  let depth = 0;
  let elementNext = false; // the previous token was the outer `[` or a top-level `,`
  for (const t of tokens) {
    if (elementNext && !tokenMatcher(t, RBracket)) {
      out.push(tokenMatcher(t, JsonString) ? { kind: 'string', image: t.image, offset: t.startOffset } : { kind: 'other', offset: t.startOffset });
    }
    const opens = tokenMatcher(t, LBracket) || tokenMatcher(t, LBrace);
    if (opens) depth++;
    else if (tokenMatcher(t, RBracket) || tokenMatcher(t, RBrace)) depth--;
    elementNext = depth === 1 && ((opens && out.length === 0) || tokenMatcher(t, Comma));
  }
  return out;
}

/**
 * Decodes a JSON string literal the way Go's encoding/json does: invalid UTF-8 bytes and unpaired
 * `\uD800`-style surrogate escapes become U+FFFD.
 */
export function goJsonUnquote(image: string): string {
  const end = image.length - 1; // closing quote
  // Without escapes or surrogates (the usual element) the value is the text between the quotes:
  // one slice, where the loop below built a rope of one object per character past the 13th that
  // the node kept through the whole conversion.
  let plain = 1;
  while (plain < end) {
    const c = image.charCodeAt(plain);
    if (c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) break;
    plain++;
  }
  if (plain === end) return image.slice(1, end);
  let out = '';
  for (let i = 1; i < end; i++) {
    const c = image.charCodeAt(i);
    if (c !== 0x5c) {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const d = image.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          out += image[i] as string;
          out += image[++i] as string;
          continue;
        }
      }
      out += isEscapedByte(c) || (c >= 0xd800 && c <= 0xdfff) ? '\ufffd' : (image[i] as string);
      continue;
    }
    const e = image[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        let cp = parseInt(image.slice(i + 1, i + 5), 16);
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdfff) {
          // A valid pair is a high surrogate escape directly followed by a low surrogate escape.
          const next = image.slice(i + 1, i + 7);
          const lo = /^\\u[0-9a-fA-F]{4}$/.test(next) ? parseInt(next.slice(2), 16) : -1;
          if (cp <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          } else {
            cp = 0xfffd;
          }
        }
        out += String.fromCodePoint(cp);
        break;
      }
      default: out += e as string; // \" \\ \/
    }
  }
  return out;
}
