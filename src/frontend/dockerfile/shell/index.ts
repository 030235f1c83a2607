/** Shell-word processing for Dockerfile arguments (BuildKit's lexer) and the rules for where it applies. */
export { emptyEnv, envFromList, envFromRecord } from './env.js';
export { ShellExpansionError } from './errors.js';
export type { ShellExpansionErrorOptions } from './errors.js';
export {
  argumentExpansion,
  changedByExpansion,
  flagExpansion,
  INSTRUCTION_EXPANSION,
  instructionExpansion,
} from './expansion-rules.js';
export type { DockerfileInstruction, ExpansionMode, ExpansionScope, InstructionExpansion } from './expansion-rules.js';
export { ShellLex } from './lex.js';
export { reversePattern, shellPatternToRegexpSource, ShellPatternError } from './shell-pattern.js';
export type { EnvLookup, ProcessResult, ShellLexer, ShellLexOptions } from './types.js';
