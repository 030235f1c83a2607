/** One instruction of a stage → its dispatcher (exhaustive over the instruction union). */
import { assertNever } from '../../../util/errors.js';
import type { StageCommand } from '../instructions/instruction.js';
import type { DispatchContext } from './dispatch-context.js';
import { dispatchCopy } from './dispatch-copy.js';
import {
  dispatchArg, dispatchCmd, dispatchEntrypoint, dispatchEnv, dispatchExpose, dispatchHealthcheck, dispatchLabel,
  dispatchMaintainer, dispatchOnbuild, dispatchShell, dispatchStopSignal, dispatchUser, dispatchVolume, dispatchWorkdir,
} from './dispatch-meta.js';
import { dispatchRun } from './dispatch-run.js';
import type { StageState } from './stage-state.js';

export function dispatch(s: StageState, ins: StageCommand, d: DispatchContext, opts: { onbuild: boolean }): void {
  switch (ins.kind) {
    case 'RUN': return dispatchRun(s, ins, d, opts);
    case 'COPY': return dispatchCopy(s, ins, d, opts);
    case 'ADD': return dispatchCopy(s, ins, d, opts);
    case 'WORKDIR': return dispatchWorkdir(s, ins, d);
    case 'ENV': return dispatchEnv(s, ins, d);
    case 'ARG': return dispatchArg(s, ins, d);
    case 'LABEL': return dispatchLabel(s, ins, d);
    case 'USER': return dispatchUser(s, ins, d);
    case 'CMD': return dispatchCmd(s, ins, d);
    case 'ENTRYPOINT': return dispatchEntrypoint(s, ins, d);
    case 'HEALTHCHECK': return dispatchHealthcheck(s, ins, d);
    case 'EXPOSE': return dispatchExpose(s, ins, d);
    case 'VOLUME': return dispatchVolume(s, ins, d);
    case 'STOPSIGNAL': return dispatchStopSignal(s, ins, d);
    case 'SHELL': return dispatchShell(s, ins, d);
    case 'MAINTAINER': return dispatchMaintainer(s, ins, d);
    case 'ONBUILD': return dispatchOnbuild(s, ins, d);
    default: return assertNever(ins, 'instruction');
  }
}
