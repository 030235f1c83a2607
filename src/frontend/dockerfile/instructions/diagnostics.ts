/**
 * Dockerfile diagnostics as typed data: a stable code callers and tests match on, a message built
 * from typed arguments, a documentation link. `fail()` turns one into a located UserInputError
 * (`Dockerfile:7:3: unknown flag --chmodd for COPY (did you mean --chmod?)`, source line attached).
 */
import { UserInputError } from '../../../util/errors.js';
import type { SourceLocation } from '../../../util/errors.js';

export interface Diagnostic<A extends readonly unknown[]> {
  readonly code: string;
  readonly message: (...args: A) => string;
  readonly url: string;
}

const REF = 'https://docs.docker.com/reference/dockerfile/';
const d = <A extends readonly unknown[]>(code: string, message: (...args: A) => string, anchor = ''): Diagnostic<A> => ({ code, message, url: REF + anchor });

export const Diagnostics = {
  unknownInstruction: d('DOCKERFILE_UNKNOWN_INSTRUCTION', (kw: string, hint: string) => `unknown instruction: ${kw}${hint}`),
  unknownFlag: d('DOCKERFILE_UNKNOWN_FLAG', (flag: string, kind: string, hint: string) => `unknown flag --${flag} for ${kind}${hint}`),
  badFlag: d('DOCKERFILE_BAD_FLAG', (what: string) => what),
  badArguments: d('DOCKERFILE_BAD_ARGUMENTS', (what: string) => what),
  badDuration: d('DOCKERFILE_BAD_DURATION', (flag: string, value: string, why: string) => `invalid duration "${value}" for --${flag}: ${why}`, '#healthcheck'),
  badMount: d('DOCKERFILE_BAD_MOUNT', (what: string) => what, '#run---mount'),
  unknownMountType: d('DOCKERFILE_UNKNOWN_MOUNT_TYPE', (type: string, hint: string) => `unsupported mount type "${type}"${hint}`, '#run---mount'),
  badChmod: d('DOCKERFILE_BAD_CHMOD', (value: string, why: string) => `invalid chmod parameter: '${value}'. ${why}`),
  badStageName: d('DOCKERFILE_BAD_STAGE_NAME', (name: string) => `invalid name for build stage: "${name}", name can't start with a number or contain symbols`, '#from'),
  duplicateStage: d('DOCKERFILE_DUPLICATE_STAGE', (name: string, line: number) => `duplicate stage name "${name}" (first defined on line ${line})`, '#from'),
  noStage: d('DOCKERFILE_NO_STAGE', (kw: string) => `${kw} before the first FROM: only ARG may come before FROM (no build stage in current context)`),
  noStages: d('DOCKERFILE_EMPTY', () => 'the Dockerfile has no FROM instruction: nothing to build'),
  badOnbuild: d('DOCKERFILE_BAD_ONBUILD', (what: string) => what, '#onbuild'),
  badExpose: d('DOCKERFILE_BAD_EXPOSE', (port: string, why: string) => `invalid EXPOSE port "${port}": ${why}`, '#expose'),
  badSignal: d('DOCKERFILE_BAD_SIGNAL', (sig: string) => `invalid STOPSIGNAL signal: ${sig}`, '#stopsignal'),
  notJSON: d('DOCKERFILE_NOT_JSON', (kind: string) => `${kind} requires the arguments to be in JSON form`),
  // Conversion (stage graph, variables, sources).
  unknownTarget: d('DOCKERFILE_UNKNOWN_TARGET', (name: string, hint: string) => `target stage "${name}" could not be found${hint}`),
  cycle: d('DOCKERFILE_STAGE_CYCLE', (path: string) => `circular dependency detected on stage: ${path}`),
  stageOrder: d('DOCKERFILE_STAGE_ORDER', (from: string, stage: string) => `cannot copy from stage "${from}", it needs to be defined before current stage "${stage}"`),
  badStageIndex: d('DOCKERFILE_BAD_STAGE_INDEX', (index: string) => `invalid stage index ${index}`),
  expansion: d('DOCKERFILE_EXPANSION', (what: string) => what, '#environment-replacement'),
  badFrom: d('DOCKERFILE_BAD_FROM', (what: string) => what, '#from'),
  badSource: d('DOCKERFILE_BAD_SOURCE', (what: string) => what),
  badOption: d('DOCKERFILE_BAD_OPTION', (what: string) => what),
} as const;

/** What a located error needs: the instruction's position and the file's lines. */
export interface ErrorSite {
  readonly file: string;
  readonly lines: readonly string[];
  readonly line: number;
  readonly column: number;
  readonly endLine?: number;
}

/**
 * Builds the located error. When `token` (e.g. `--chmodd`) occurs on the first line, the column
 * points at it rather than at the keyword, so the caret under the source line is exact.
 */
export function diagnosticError<A extends readonly unknown[]>(diag: Diagnostic<A>, args: A, site: ErrorSite, token?: string, cause?: unknown): UserInputError {
  const sourceLine = site.lines[site.line - 1];
  let column = site.column;
  if (token && sourceLine !== undefined) {
    const i = sourceLine.indexOf(token, Math.max(0, site.column - 1));
    if (i >= 0) column = i + 1;
  }
  const location: SourceLocation = site.endLine !== undefined && site.endLine !== site.line
    ? { file: site.file, line: site.line, column, endLine: site.endLine }
    : { file: site.file, line: site.line, column };
  return new UserInputError(diag.code, diag.message(...args), {
    location,
    ...(sourceLine !== undefined ? { sourceLine } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** Throws the located error for `diag`. */
export function fail<A extends readonly unknown[]>(diag: Diagnostic<A>, args: A, site: ErrorSite, token?: string): never {
  throw diagnosticError(diag, args, site, token);
}
