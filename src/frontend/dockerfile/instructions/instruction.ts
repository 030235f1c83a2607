/**
 * Typed Dockerfile instructions: the second stage of the frontend pipeline (AST → typed
 * instructions → LLB). Every flag the Dockerfile reference documents is parsed and validated here;
 * values that Docker expands with ARG/ENV (`COPY --chown=$U`) are kept as written and expanded by the
 * conversion, which knows the variables in scope.
 */
import type { Heredoc, InstructionNode } from '../ast.js';
import type { SourceLocation } from '../../../util/errors.js';

export const INSTRUCTION_KINDS = [
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT',
  'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
] as const;

export type InstructionKind = (typeof INSTRUCTION_KINDS)[number];

interface Base {
  /** Where the instruction is: keyword line/column, last physical line (heredoc bodies included). */
  readonly location: SourceLocation;
  /** The logical line as written, flags included (BuildKit's `Original`), for names and history. */
  readonly original: string;
  /** The AST node it came from. */
  readonly node: InstructionNode;
}

/** A command in shell form (one string, run through SHELL) or exec (JSON array) form. */
export interface CommandLine {
  readonly form: 'shell' | 'exec';
  readonly args: readonly string[];
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Written in the legacy `KEY value` form (no `=`). */
  readonly legacy: boolean;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharingMode = 'shared' | 'private' | 'locked';

/** One `RUN --mount=…` after parsing (values possibly still containing `$VAR`; see RunMountSpec). */
export interface RunMount {
  readonly type: MountType;
  readonly target: string | undefined;
  readonly source: string | undefined;
  /** Stage name, stage index or image the mount reads from (bind, cache). */
  readonly from: string | undefined;
  readonly readonly: boolean;
  /** Cache id (cache), secret id (secret), ssh agent id (ssh). */
  readonly id: string | undefined;
  readonly sharing: CacheSharingMode | undefined;
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** tmpfs size in bytes. */
  readonly size: number | undefined;
  /** secret/ssh: fail when not provided. */
  readonly required: boolean;
  /** secret: also (or only) expose as this environment variable. */
  readonly env: string | undefined;
}

export interface RunMountSpec {
  /** The flag value as written (`type=cache,target=/root/.cache`). */
  readonly raw: string;
  /** Parsed with the values as written; the conversion re-parses `raw` after expansion (when it holds anything to expand). */
  readonly mount: RunMount;
}

export type NetworkFlag = 'default' | 'none' | 'host';
export type SecurityFlag = 'sandbox' | 'insecure';

export interface FromInstruction extends Base {
  readonly kind: 'FROM';
  /** Base image or stage name, unexpanded (global ARGs apply). */
  readonly image: string;
  /** Lower-cased `AS` name. */
  readonly stageName: string | undefined;
  /** `--platform` value, unexpanded. */
  readonly platform: string | undefined;
}

export interface RunInstruction extends Base {
  readonly kind: 'RUN';
  readonly command: CommandLine;
  readonly heredocs: readonly Heredoc[];
  readonly mounts: readonly RunMountSpec[];
  readonly network: NetworkFlag | undefined;
  readonly security: SecurityFlag | undefined;
}

export interface CmdInstruction extends Base {
  readonly kind: 'CMD';
  readonly command: CommandLine;
}

export interface EntrypointInstruction extends Base {
  readonly kind: 'ENTRYPOINT';
  readonly command: CommandLine;
}

export interface ShellInstruction extends Base {
  readonly kind: 'SHELL';
  readonly shell: readonly string[];
}

/** A heredoc used as a COPY/ADD source: becomes a file named `path` with `data`. */
export interface HeredocSource {
  readonly path: string;
  /** Body with `<<-` tab chomping already applied. */
  readonly data: string;
  /** Unquoted delimiter: the body is variable-expanded. */
  readonly expand: boolean;
}

interface CopyLike extends Base {
  /** Source paths/URLs as written, in order (heredoc sources are in `heredocSources`). */
  readonly sources: readonly string[];
  readonly heredocSources: readonly HeredocSource[];
  readonly dest: string;
  readonly chown: string | undefined;
  /** Octal (`0755`) or symbolic (`u=rwX,go=rX`), unexpanded. */
  readonly chmod: string | undefined;
  readonly link: boolean;
  readonly exclude: readonly string[];
}

export interface CopyInstruction extends CopyLike {
  readonly kind: 'COPY';
  /** `--from`: stage name, stage index or image. Never expanded (as in Docker). */
  readonly from: string | undefined;
  readonly parents: boolean;
}

export interface AddInstruction extends CopyLike {
  readonly kind: 'ADD';
  readonly checksum: string | undefined;
  readonly keepGitDir: boolean | undefined;
  /** `--unpack` when given; default: local archives are unpacked, remote ones are not. */
  readonly unpack: boolean | undefined;
}

export interface EnvInstruction extends Base {
  readonly kind: 'ENV';
  readonly pairs: readonly KeyValue[];
}

export interface LabelInstruction extends Base {
  readonly kind: 'LABEL';
  readonly pairs: readonly KeyValue[];
}

export interface ArgDecl {
  readonly key: string;
  /** Default as written (unexpanded); undefined when none. */
  readonly value: string | undefined;
}

export interface ArgInstruction extends Base {
  readonly kind: 'ARG';
  readonly args: readonly ArgDecl[];
}

export interface ExposeInstruction extends Base {
  readonly kind: 'EXPOSE';
  /** `80`, `8000-8010/udp`, … unexpanded. */
  readonly ports: readonly string[];
}

export interface UserInstruction extends Base {
  readonly kind: 'USER';
  readonly user: string;
}

export interface WorkdirInstruction extends Base {
  readonly kind: 'WORKDIR';
  readonly path: string;
}

export interface VolumeInstruction extends Base {
  readonly kind: 'VOLUME';
  readonly volumes: readonly string[];
}

export interface StopSignalInstruction extends Base {
  readonly kind: 'STOPSIGNAL';
  readonly signal: string;
}

export interface HealthcheckInstruction extends Base {
  readonly kind: 'HEALTHCHECK';
  /** Docker's encoding: ['NONE'], ['CMD', arg…] (exec form) or ['CMD-SHELL', command]. */
  readonly test: readonly string[];
  /** Nanoseconds; 0 or undefined = Docker's default. */
  readonly interval: number | undefined;
  readonly timeout: number | undefined;
  readonly startPeriod: number | undefined;
  readonly startInterval: number | undefined;
  readonly retries: number | undefined;
}

export interface OnbuildInstruction extends Base {
  readonly kind: 'ONBUILD';
  /** The trigger as it is stored in the image config (`RUN make`), heredoc bodies appended. */
  readonly expression: string;
  /** The trigger, typed (validated now, run in downstream builds). */
  readonly trigger: Instruction;
}

export interface MaintainerInstruction extends Base {
  readonly kind: 'MAINTAINER';
  readonly maintainer: string;
}

export type Instruction =
  | FromInstruction | RunInstruction | CmdInstruction | EntrypointInstruction | ShellInstruction
  | CopyInstruction | AddInstruction | EnvInstruction | LabelInstruction | ArgInstruction
  | ExposeInstruction | UserInstruction | WorkdirInstruction | VolumeInstruction
  | StopSignalInstruction | HealthcheckInstruction | OnbuildInstruction | MaintainerInstruction;

/** Every instruction except FROM: what a stage contains. */
export type StageCommand = Exclude<Instruction, FromInstruction>;

/** A build stage: its FROM and the instructions up to the next FROM. */
export interface StageDef {
  readonly index: number;
  readonly from: FromInstruction;
  /** Lower-cased `AS` name. */
  readonly name: string | undefined;
  readonly commands: readonly StageCommand[];
}

/** A Dockerfile as typed instructions. */
export interface TypedDockerfile {
  /** ARGs before the first FROM (usable in FROM lines). */
  readonly metaArgs: readonly ArgInstruction[];
  readonly stages: readonly StageDef[];
  readonly file: string;
  /** Physical lines, for error messages. */
  readonly lines: readonly string[];
  readonly escapeToken: '\\' | '`';
}
