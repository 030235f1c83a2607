/** What every instruction dispatcher needs besides its stage: shared per conversion, read-mostly. */
import type { ExecMount, ProxyEnv } from '../../../llb/exec.js';
import type { State } from '../../../llb/state.js';
import type { ErrorSite } from '../instructions/diagnostics.js';
import type { Instruction } from '../instructions/instruction.js';
import { siteOf } from '../instructions/site.js';
import type { ParseContext } from '../instructions/site.js';
import type { Expander } from './expand.js';
import type { StageState } from './stage-state.js';
import type { UlimitEntry } from '../../../util/ulimit.js';
import type { ExtraHostEntry } from '../../../util/extra-host.js';

export interface DispatchContext {
  readonly parse: ParseContext;
  readonly expander: Expander;
  /** The build context (`local://context`); its followpaths are `ctxPaths`, read at marshal time. */
  readonly context: State;
  /** Context paths read by COPY/ADD/RUN --mount of converted stages (absolute, may hold wildcards). */
  readonly ctxPaths: Set<string>;
  /** Resolves COPY --from / --mount from= to the stage it names (set up by the stage graph). */
  readonly sourceOf: (from: string, ins: Instruction, reader: StageState) => StageState;
  readonly globals: ReadonlyMap<string, string>;
  readonly buildArgs: ReadonlyMap<string, string>;
  readonly proxyEnv: ProxyEnv | undefined;
  /** ConvertOptions.forceNetwork. */
  readonly forceNetwork: 'none' | 'host' | undefined;
  /** ConvertOptions.extraHosts (undefined when none). */
  readonly extraHosts: readonly ExtraHostEntry[] | undefined;
  /** ConvertOptions.ulimits (undefined when none). */
  readonly ulimits: readonly UlimitEntry[] | undefined;
  /** The /dev/shm tmpfs every RUN mounts, from ConvertOptions.shmSize (undefined: the runtime's own). */
  readonly shmMount: ExecMount | undefined;
  readonly epoch: number | undefined;
  /** ARG names that were declared somewhere in converted stages (for the unused --build-arg warning). */
  readonly usedArgs: Set<string>;
}

export function site(dctx: DispatchContext, ins: Instruction): ErrorSite {
  return siteOf(ins.node, dctx.parse);
}

export function lineOf(ins: Instruction): { startLine: number; endLine: number; column: number } {
  return { startLine: ins.node.startLine, endLine: ins.node.endLine, column: ins.node.column };
}

/** BuildKit's uppercaseCmd: the keyword of a display string upper-cased. */
export function uppercaseCmd(s: string): string {
  const i = s.indexOf(' ');
  const end = i < 0 ? s.length : i;
  // The keyword is usually written upper-case already: the text as it is, without the three
  // strings of the split and join.
  let k = 0;
  while (k < end && s.charCodeAt(k) < 0x80 && !(s.charCodeAt(k) >= 0x61 && s.charCodeAt(k) <= 0x7a)) k++;
  if (k === end) return s;
  return i < 0 ? s.toUpperCase() : s.slice(0, i).toUpperCase() + s.slice(i);
}
