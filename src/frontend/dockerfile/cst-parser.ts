/**
 * The Chevrotain grammar: one instruction line (keyword, `--flag` words, arguments) and the
 * exec-form JSON array. One parser instance is built when the module loads and reused for every
 * line (Chevrotain's grammar analysis is costly; its per-parse state is reset by `input =`). Parsing
 * is synchronous, so sharing the instance is safe.
 */
import type { CstNode, IToken } from 'chevrotain';
import { CstParser } from './chevrotain.js';
import {
  allTokens, Colon, Comma, FlagWord, JsonFalse, JsonNull, JsonNumber, JsonString, JsonTrue,
  Keyword, KeywordSep, LBrace, LBracket, RBrace, RBracket, RestOfLine, Space,
} from './tokens.js';

export class DockerfileCstParser extends CstParser {
  constructor() {
    super(allTokens, { recoveryEnabled: false, maxLookahead: 1 });
    this.performSelfAnalysis();
  }

  /** keyword [ws flags-and-arguments] */
  readonly instruction = this.RULE('instruction', () => {
    this.OPTION(() => this.CONSUME(Keyword));
    this.OPTION2(() => {
      this.CONSUME(KeywordSep);
      this.SUBRULE(this.flagSection);
    });
  });

  /** Leading `--flag` words, then the arguments as one token. */
  readonly flagSection = this.RULE('flagSection', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Space) },
        { ALT: () => this.CONSUME(FlagWord) },
      ]);
    });
    this.OPTION(() => this.CONSUME(RestOfLine));
  });

  /** `[ value, ... ]`: the exec form at the top, and nested arrays inside it. */
  readonly jsonArray = this.RULE('jsonArray', () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.jsonValue);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.jsonValue);
      });
    });
    this.CONSUME(RBracket);
  });

  readonly jsonValue = this.RULE('jsonValue', () => {
    this.OR([
      { ALT: () => this.CONSUME(JsonString) },
      { ALT: () => this.CONSUME(JsonNumber) },
      { ALT: () => this.CONSUME(JsonTrue) },
      { ALT: () => this.CONSUME(JsonFalse) },
      { ALT: () => this.CONSUME(JsonNull) },
      { ALT: () => this.SUBRULE(this.jsonArray) },
      { ALT: () => this.SUBRULE(this.jsonObject) },
    ]);
  });

  readonly jsonObject = this.RULE('jsonObject', () => {
    this.CONSUME(LBrace);
    this.OPTION(() => {
      this.SUBRULE(this.jsonMember);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.jsonMember);
      });
    });
    this.CONSUME(RBrace);
  });

  readonly jsonMember = this.RULE('jsonMember', () => {
    this.CONSUME(JsonString);
    this.CONSUME(Colon);
    this.SUBRULE(this.jsonValue);
  });
}

/** The one parser instance (see module doc). */
export const cstParser = new DockerfileCstParser();

/** Parses tokens with the given start rule; undefined when they do not match the grammar. */
export function parseTokens(tokens: IToken[], rule: 'instruction' | 'jsonArray'): CstNode | undefined {
  cstParser.input = tokens;
  const cst = rule === 'instruction' ? cstParser.instruction() : cstParser.jsonArray();
  return cstParser.errors.length === 0 ? cst : undefined;
}
