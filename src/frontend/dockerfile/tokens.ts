/**
 * Every Chevrotain token of the Dockerfile parser, and the lexers built from them.
 *
 * An instruction (one logical line, continuations already joined) is lexed in two modes that
 * follow BuildKit's `splitCommand`/`extractBuilderFlags`:
 *   keyword  the instruction word, up to the first `[\t\v\f\r ]` (BuildKit splits on that set)
 *   flags    after it: a word starting with `--` is a flag word (quoted runs and escape pairs
 *            included, so `--x="a b"` is one word), and the first word that is not a flag starts
 *            the arguments, which run to the end of the line as one token
 * The escape token changes where a flag word ends (`--x="a\" b"` vs `` --x="a`" b" ``), so the
 * flag-word token exists twice, once per escape token, under one category token the parser
 * consumes. A second, independent lexer tokenizes exec-form JSON arrays (`["a", "b"]`).
 */
import type { Lexer as ChevrotainLexer, TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';
import { GO_SPACE_CLASS } from './go-text.js';

const S = GO_SPACE_CLASS;

// ---- keyword mode -------------------------------------------------------------------------------

/** The instruction keyword as written: everything up to the first `[\t\v\f\r ]`. */
export const Keyword = createToken({ name: 'Keyword', pattern: /[^\t\v\f\r ]+/ });
/** Whitespace after the keyword; switches to the flags mode. */
export const KeywordSep = createToken({ name: 'KeywordSep', pattern: /[\t\v\f\r ]+/, push_mode: 'flags' });

// ---- flags mode ---------------------------------------------------------------------------------

/** Whitespace between flag words (Go's unicode.IsSpace). */
export const Space = createToken({ name: 'Space', pattern: new RegExp(`[${S}]+`) });
/** A `--flag[=value]` word; category of the two escape-token-specific patterns below. */
export const FlagWord = createToken({ name: 'FlagWord', pattern: Lexer.NA });
/**
 * The first word that is not a flag, and everything after it: the instruction's arguments. A
 * custom matcher takes the rest in O(1) (a regexp would scan it), which keeps `ONBUILD ONBUILD …`
 * nesting, where each level re-lexes the rest of the line, linear.
 */
export const RestOfLine = createToken({
  name: 'RestOfLine',
  pattern: (text: string, offset: number) => (offset < text.length ? ([text.slice(offset)] as unknown as RegExpExecArray) : null),
  line_breaks: true,
});

/**
 * A flag word for one escape token: `--`, then plain characters, escape pairs (a lone escape at
 * the end of the line too) and quoted runs, in which the escape token escapes any character in
 * both quote styles and which may be unterminated at the end of the line. The alternatives start
 * with different characters, so the regexp never backtracks.
 */
function flagWordToken(escape: '\\' | '`'): TokenType {
  const e = escape === '\\' ? '\\\\' : '`';
  const quoted = (q: string): string => `${q}(?:[^${q}${e}]|${e}[\\s\\S]?)*${q}?`;
  return createToken({
    name: `FlagWord${escape === '\\' ? 'Backslash' : 'Backtick'}`,
    pattern: new RegExp(`--(?:[^${S}"'${e}]|${e}[\\s\\S]?|${quoted('"')}|${quoted("'")})*`),
    categories: [FlagWord],
  });
}

const backslashFlagWord = flagWordToken('\\');
const backtickFlagWord = flagWordToken('`');

// ---- exec-form JSON -----------------------------------------------------------------------------

/** JSON insignificant whitespace (only these four, as in Go's encoding/json). */
export const JsonWhitespace = createToken({ name: 'JsonWhitespace', pattern: /[ \t\n\r]+/, group: Lexer.SKIPPED });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /}/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
/** A JSON string: no raw control characters, only the JSON escapes. */
export const JsonString = createToken({ name: 'JsonString', pattern: /"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/ });
export const JsonNumber = createToken({ name: 'JsonNumber', pattern: /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
export const JsonTrue = createToken({ name: 'JsonTrue', pattern: /true/ });
export const JsonFalse = createToken({ name: 'JsonFalse', pattern: /false/ });
export const JsonNull = createToken({ name: 'JsonNull', pattern: /null/ });

const jsonTokens = [JsonWhitespace, LBracket, RBracket, LBrace, RBrace, Comma, Colon, JsonString, JsonNumber, JsonTrue, JsonFalse, JsonNull];

/** Every token type the CstParser must know (categories included). */
export const allTokens: TokenType[] = [
  Keyword, KeywordSep, Space, FlagWord, backslashFlagWord, backtickFlagWord, RestOfLine, ...jsonTokens,
];

/**
 * `safeMode` turns off Chevrotain's first-character optimization, which custom matchers and
 * complement classes defeat anyway; with at most three patterns per mode it buys little.
 */
const LEXER_CONFIG = { positionTracking: 'onlyOffset', safeMode: true } as const;

function instructionLexer(flagWord: TokenType): ChevrotainLexer {
  return new Lexer(
    {
      modes: {
        keyword: [Keyword, KeywordSep],
        flags: [Space, flagWord, RestOfLine],
      },
      defaultMode: 'keyword',
    },
    LEXER_CONFIG,
  );
}

/** Instruction lexers, one per escape token. Lexers are stateless between tokenize() calls. */
export const instructionLexers: Readonly<Record<'\\' | '`', ChevrotainLexer>> = {
  '\\': instructionLexer(backslashFlagWord),
  '`': instructionLexer(backtickFlagWord),
};

/** The exec-form JSON lexer. */
export const jsonLexer = new Lexer(jsonTokens, LEXER_CONFIG);
