/**
 * Which parts of which Dockerfile instructions the builder expands (Dockerfile reference,
 * "Environment replacement", checked against BuildKit's instruction types and dispatcher). The
 * converter asks this table instead of hard-coding the rules at each call site; docs/shell-expansion.md
 * explains each entry.
 */
import type { ShellLexer } from './types.js';

/** How the builder treats `$` in one part of an instruction. */
export type ExpansionMode =
  /** Expanded as one word (`processWord`): quotes and escapes processed, no splitting. */
  | 'word'
  /** Expanded, then split on unquoted whitespace into several words (`processWords`): EXPOSE. */
  | 'words'
  /**
   * Heredoc body of COPY/ADD whose delimiter is unquoted: `$` expanded with backslash escapes, quotes
   * kept as written (`skipProcessQuotes`). A quoted delimiter (`<<'EOF'`) means no expansion.
   */
  | 'raw'
  /** Left alone by the builder; the shell in the container expands it at run time. */
  | 'shell'
  /** Taken literally. */
  | 'none'
  /** May not contain a variable reference at all; using one is an error (`COPY --from=$X`). */
  | 'forbidden'
  /** Not expanded now; the trigger is expanded by its own rule when it runs in a child build. */
  | 'deferred';

export type DockerfileInstruction =
  | 'ADD'
  | 'ARG'
  | 'CMD'
  | 'COPY'
  | 'ENTRYPOINT'
  | 'ENV'
  | 'EXPOSE'
  | 'FROM'
  | 'HEALTHCHECK'
  | 'LABEL'
  | 'MAINTAINER'
  | 'ONBUILD'
  | 'RUN'
  | 'SHELL'
  | 'STOPSIGNAL'
  | 'USER'
  | 'VOLUME'
  | 'WORKDIR';

/** Variables visible to the expansion. */
export type ExpansionScope =
  /** ARGs declared before the first FROM (plus the automatic platform ARGs): FROM's image and --platform. */
  | 'global'
  /** The stage's ARGs and ENVs in effect before the instruction (ENV a=1 b=$a sees the old a). */
  | 'stage';

export interface InstructionExpansion {
  /** Arguments in shell form (for instructions without an exec form, the only form). */
  readonly args: ExpansionMode;
  /** Arguments in exec (JSON array) form. */
  readonly execArgs: ExpansionMode;
  /** Flags by name without `--`; a flag not listed is taken literally (`none`). */
  readonly flags: Readonly<Record<string, ExpansionMode>>;
  /** Heredoc bodies (`none` where the instruction takes no heredoc). */
  readonly heredoc: ExpansionMode;
  readonly scope: ExpansionScope;
}

const literal: InstructionExpansion = { args: 'none', execArgs: 'none', flags: {}, heredoc: 'none', scope: 'stage' };
const oneWord: InstructionExpansion = { ...literal, args: 'word', execArgs: 'word' };
const shellForm: InstructionExpansion = { ...literal, args: 'shell', execArgs: 'none' };

export const INSTRUCTION_EXPANSION: Readonly<Record<DockerfileInstruction, InstructionExpansion>> = {
  ADD: {
    ...oneWord,
    flags: { chown: 'word', chmod: 'word', checksum: 'word', 'keep-git-dir': 'none', link: 'none', exclude: 'none', unpack: 'none' },
    heredoc: 'raw',
  },
  ARG: oneWord,
  CMD: shellForm,
  COPY: {
    ...oneWord,
    flags: { chown: 'word', chmod: 'word', from: 'forbidden', link: 'none', parents: 'none', exclude: 'none' },
    heredoc: 'raw',
  },
  ENTRYPOINT: shellForm,
  ENV: oneWord,
  EXPOSE: { ...literal, args: 'words', execArgs: 'words' },
  FROM: { ...literal, args: 'word', flags: { platform: 'word' }, scope: 'global' },
  HEALTHCHECK: shellForm,
  LABEL: oneWord,
  MAINTAINER: literal,
  ONBUILD: { ...literal, args: 'deferred', execArgs: 'deferred' },
  RUN: { ...shellForm, flags: { mount: 'word', network: 'none', security: 'none' }, heredoc: 'shell' },
  SHELL: literal,
  STOPSIGNAL: oneWord,
  USER: oneWord,
  VOLUME: oneWord,
  WORKDIR: oneWord,
};

function isInstruction(keyword: string): keyword is DockerfileInstruction {
  return Object.hasOwn(INSTRUCTION_EXPANSION, keyword);
}

/** The rules for an instruction keyword (any case); undefined for an unknown keyword. */
export function instructionExpansion(keyword: string): InstructionExpansion | undefined {
  const k = keyword.toUpperCase();
  return isInstruction(k) ? INSTRUCTION_EXPANSION[k] : undefined;
}

/** How `--flag` of `keyword` is treated (`none` for unknown instructions and flags). */
export function flagExpansion(keyword: string, flag: string): ExpansionMode {
  const rules = instructionExpansion(keyword);
  const name = flag.replace(/^--/, '').toLowerCase();
  if (rules === undefined || !Object.hasOwn(rules.flags, name)) return 'none';
  return rules.flags[name] ?? 'none';
}

/** How the arguments of `keyword` in the given form are treated (`none` for unknown instructions). */
export function argumentExpansion(keyword: string, opts: { execForm: boolean }): ExpansionMode {
  const rules = instructionExpansion(keyword);
  if (rules === undefined) return 'none';
  return opts.execForm ? rules.execArgs : rules.args;
}

/**
 * For `forbidden` parts: does expansion change the word at all? BuildKit expands `COPY --from` with no
 * variables set and rejects the flag when the result differs ("variable expansion is not supported
 * for --from, define a new stage with FROM using ARG from global scope as a workaround").
 */
export function changedByExpansion(lex: ShellLexer, word: string): boolean {
  return lex.processWord(word, () => undefined) !== word;
}
