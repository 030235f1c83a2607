/**
 * The raw Dockerfile AST: what the parser (Chevrotain lexer + CstParser + visitor) produces, before
 * instructions are typed. It mirrors BuildKit's parser Node closely enough that the AST dump
 * (`tsbuild parse --format dump`) matches BuildKit's byte for byte: flags stay raw `--x=y` words,
 * arguments stay as written (no unquoting, no variable expansion), heredoc bodies sit beside the
 * arguments. Typing and validation happen later (instructions.ts), so the parser accepts any
 * keyword and any flag.
 */

/** A parser directive from the top of the file (`# syntax=…`, `# escape=…`, `# check=…`). */
export interface Directive {
  /** Lower-cased key. */
  readonly name: 'syntax' | 'escape' | 'check';
  readonly value: string;
  /** 1-based line of the directive. */
  readonly line: number;
}

/** A heredoc attached to RUN/COPY/ADD (also under ONBUILD). */
export interface Heredoc {
  /** Delimiter with quotes removed (`'EOF'` → `EOF`). */
  readonly name: string;
  /** `3<<EOF` → 3; 0 when not given. */
  readonly fileDescriptor: number;
  /** False when any part of the delimiter was quoted: no variable expansion in the body. */
  readonly expand: boolean;
  /** `<<-`: leading tabs are stripped from body lines when the body is used (see chompHeredocContent). */
  readonly chomp: boolean;
  /** Body lines between the heredoc line and the terminator, each with its own `\n`; tabs NOT stripped. */
  readonly content: string;
}

export interface ParseWarning {
  readonly message: string;
  /** 1-based line to fix (for an empty continuation line: the first such line). */
  readonly line: number;
  /** Stable identifier of the kind of warning (BuildKit's check name, e.g. `NoEmptyContinuation`). */
  readonly code?: string;
  /** Where the warning is explained. */
  readonly url?: string;
}

/** One instruction (a logical line after joining continuations). */
export interface InstructionNode {
  /** The keyword exactly as written (`FrOm`); compare case-insensitively. */
  readonly keyword: string;
  /** Leading `--flag[=value]` words, quotes removed, as BuildKit extracts them. */
  readonly flags: readonly string[];
  /**
   * The arguments as BuildKit's line parsers split them (its `Next` chain): one per JSON element in
   * exec form, the whole rest in shell form for RUN/CMD/ENTRYPOINT/SHELL, key/value/separator triples
   * for ENV and LABEL, and so on. Empty for ONBUILD (see `onbuild`).
   */
  readonly args: readonly string[];
  /** The nested instruction of an ONBUILD. */
  readonly onbuild?: InstructionNode;
  /** True when the arguments came from a JSON array (exec form). */
  readonly json: boolean;
  /** The logical line after continuation joining (keyword included), as BuildKit's `Original`. */
  readonly original: string;
  /** 1-based first and last physical line, heredoc bodies included. */
  readonly startLine: number;
  readonly endLine: number;
  /** 1-based column of the keyword on its first line. */
  readonly column: number;
  readonly heredocs: readonly Heredoc[];
  /** Comment lines directly above the instruction, without the leading `#` and surrounding blanks. */
  readonly comments: readonly string[];
}

export interface DockerfileAST {
  readonly children: readonly InstructionNode[];
  readonly directives: readonly Directive[];
  /** The escape token in effect (`\` unless `# escape=` says otherwise). */
  readonly escapeToken: '\\' | '`';
  readonly warnings: readonly ParseWarning[];
  /** The file name as given by the user (for error locations). */
  readonly file: string;
  /** The source split into physical lines (without line terminators), for showing error lines. */
  readonly lines: readonly string[];
}
