/**
 * The conversion's working state for one stage (BuildKit's dispatchState): the LLB state being
 * built, the image config being assembled, ARGs in scope, step numbering and the context paths the
 * stage reads. Mutable, owned by one conversion.
 */
import { State } from '../../../llb/state.js';
import type { ImageConfig } from '../../../oci/types.js';
import type { LLBPlatform, OpConstraints } from '../../../llb/types.js';
import type { Instruction, StageCommand, StageDef } from '../instructions/instruction.js';
import type { EnvLookup } from '../shell/types.js';
import type { EnvList } from '../../../llb/env-list.js';
import type { FoundContext } from './named-contexts.js';

export interface BuildArg {
  readonly key: string;
  readonly value: string | undefined;
}

export class StageState {
  /** The stage definition; undefined for an image pseudo-stage (`COPY --from=alpine`). */
  readonly def: StageDef | undefined;
  /** Graph/result id: `AS` name, `stage-N`, or `image:REF` for pseudo-stages. */
  readonly id: string;
  /** The name shown in progress (`[builder 2/5]`); "" when the Dockerfile has one stage. */
  displayName = '';
  /** Metadata stage value: name, or the index for unnamed stages; "" for pseudo-stages. */
  readonly metaStage: string;

  /** Expanded FROM value. */
  baseName: string;
  /** FROM <earlier stage>. */
  base: StageState | undefined;
  /**
   * The `--build-context` this stage starts from instead of its FROM image (or, for a pseudo-stage,
   * instead of the `--from` image); with `replaced`, the whole stage is that context.
   */
  context: FoundContext | undefined;
  /** A `--build-context` named like the stage replaces it: none of its instructions (nor ONBUILD triggers) run. */
  replaced = false;
  /** Stages read by COPY --from / RUN --mount from, with the instruction that reads them. */
  readonly deps = new Map<StageState, Instruction>();
  platform: LLBPlatform;
  /** True when FROM --platform was given (or inherited from a stage base). */
  explicitPlatform = false;

  state: State = State.scratch();
  image: ImageConfig;
  /** ARGs declared in the stage, in order (BuildKit's buildArgs); only ever appended to. */
  buildArgs: BuildArg[] = [];
  /** RUN history's `|N K=V …` part, for `buildArgs` of `count` entries and the env `env` (dispatch-run.ts). */
  runArgsPrefix: { readonly count: number; readonly env: EnvList; readonly text: string } | undefined;
  commands: StageCommand[];
  /** Number of ONBUILD triggers at the start of `commands`. */
  triggerCount = 0;
  cmdIndex = 0;
  cmdTotal = 0;
  /** CMD given in this stage (ENTRYPOINT then resets an inherited CMD only if not). */
  cmdSet = false;
  resolved = false;
  dispatched = false;
  ignoreCache = false;
  /**
   * Whether the stage's image history is built: only for the stages whose config reaches the
   * result (the target and the stages it is based on, set before dispatch). Every other stage's
   * history was ~one string and entry per instruction, made and kept alive through the conversion
   * for nobody (its Env, WorkingDir, User, Shell... are still kept: dispatch reads them).
   */
  keepsHistory = false;
  /** Base image has no layers: start from scratch. */
  baseIsScratch = false;
  /** For an image pseudo-stage: the line of the first `--from` that reads it. */
  firstUse: { startLine: number; endLine: number; column: number } | undefined;
  /** Config of the base image as resolved (before this stage's changes). */
  baseImage: ImageConfig | undefined;

  constructor(init: { def: StageDef | undefined; id: string; metaStage: string; baseName: string; platform: LLBPlatform; image: ImageConfig }) {
    this.def = init.def;
    this.id = init.id;
    this.metaStage = init.metaStage;
    this.baseName = init.baseName;
    this.platform = init.platform;
    this.image = init.image;
    this.commands = init.def ? [...init.def.commands] : [];
  }

  get isPseudo(): boolean {
    return this.def === undefined;
  }

  /** Variables for expansion: the state's env (ENV and ARG values, the latest of a name winning). */
  envLookup(): EnvLookup {
    const st = this.state;
    return (k) => st.getEnv(k);
  }

  /**
   * `[stage 2/5] NAME` with the step counter advanced (BuildKit's prefixCommand); the step number is
   * padded to the width of the total.
   */
  prefixed(name: string, opts: { onbuild?: boolean } = {}): { description: string; step: number } {
    if (this.cmdTotal === 0) return { description: name, step: 0 };
    this.cmdIndex++;
    const width = String(this.cmdTotal).length;
    const stage = this.displayName ? `${this.displayName} ` : '';
    return {
      description: `[${stage}${String(this.cmdIndex).padStart(width)}/${this.cmdTotal}] ${opts.onbuild ? 'ONBUILD ' : ''}${name}`,
      step: this.cmdIndex,
    };
  }

  /** Op metadata for a step of this stage. */
  constraints(description: string, step: number, line: { startLine: number; endLine: number; column: number } | undefined): OpConstraints {
    return {
      description,
      stage: this.metaStage,
      step,
      steps: this.cmdTotal,
      ignoreCache: this.ignoreCache,
      locations: line ? [{ sourceIndex: 0, startLine: line.startLine, endLine: line.endLine, startColumn: line.column }] : [],
    };
  }
}
