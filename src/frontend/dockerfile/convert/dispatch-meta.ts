/**
 * Instructions that change the image config and the build state but create no filesystem step
 * (except WORKDIR, which creates its directory like BuildKit): ENV, ARG, LABEL, USER, WORKDIR, CMD,
 * ENTRYPOINT, HEALTHCHECK, EXPOSE, VOLUME, STOPSIGNAL, SHELL, MAINTAINER, ONBUILD.
 */
import { posix } from 'node:path';
import { FileActions } from '../../../llb/file-actions.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import { exposedPortKeys, parsePortSpec } from '../instructions/expose.js';
import { isValidSignal } from '../instructions/signal.js';
import type {
  ArgInstruction, CmdInstruction, EntrypointInstruction, EnvInstruction, ExposeInstruction, HealthcheckInstruction,
  LabelInstruction, MaintainerInstruction, OnbuildInstruction, ShellInstruction, StopSignalInstruction, UserInstruction,
  VolumeInstruction, WorkdirInstruction,
} from '../instructions/instruction.js';
import type { HealthConfig } from '../../../oci/types.js';
import { setEnv, commitHistory, goList, goQuoteList, healthcheckHistory, shellOf } from './image-config.js';
import { lineOf, site, uppercaseCmd } from './dispatch-context.js';
import type { DispatchContext } from './dispatch-context.js';
import type { StageState } from './stage-state.js';

/** An empty-layer history entry; callers build `msg` only when `s.keepsHistory` (stage-state.ts). */
function history(s: StageState, d: DispatchContext, msg: string): void {
  commitHistory(s.image, msg, { layer: false, withState: false, epoch: d.epoch });
}

export function dispatchEnv(s: StageState, ins: EnvInstruction, d: DispatchContext): void {
  const env = s.envLookup();
  const at = site(d, ins);
  // Every pair sees the variables as they were before the instruction (ENV a=1 b=$a → old a).
  const pairs = ins.pairs.map((p) => ({ key: d.expander.word(p.key, env, at), value: d.expander.word(p.value, env, at) }));
  for (const { key, value } of pairs) {
    s.state = s.state.addEnv(key, value);
    setEnv(s.image, key, value);
  }
  if (s.keepsHistory) history(s, d, `ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
}

export function dispatchLabel(s: StageState, ins: LabelInstruction, d: DispatchContext): void {
  const env = s.envLookup();
  const at = site(d, ins);
  const pairs = ins.pairs.map((p) => ({ key: d.expander.word(p.key, env, at), value: d.expander.word(p.value, env, at) }));
  // The stage's config is its own (cloned from any base): updated in place, not copied per LABEL.
  const labels = (s.image.config.Labels ??= {});
  for (const { key, value } of pairs) labels[key] = value;
  if (s.keepsHistory) history(s, d, `LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
}

/**
 * ARG: a --build-arg wins, else the default (expanded), else the global value of the same name.
 * The value joins the state's env, so RUN steps and later expansions see it and their digests
 * change with it — also over an ENV of the same name set earlier (or by the base image), as in
 * BuildKit; the image config keeps the ENV value. An ENV after the ARG wins again.
 */
export function dispatchArg(s: StageState, ins: ArgInstruction, d: DispatchContext): void {
  const at = site(d, ins);
  const parts: string[] = [];
  for (const a of ins.args) {
    d.usedArgs.add(a.key);
    let value: string | undefined;
    const given = d.buildArgs.get(a.key);
    if (given !== undefined) value = given;
    else if (a.value !== undefined) value = d.expander.word(a.value, s.envLookup(), at);
    else value = d.globals.get(a.key);
    if (value !== undefined) s.state = s.state.addEnv(a.key, value);
    // Every declaration is listed, a re-declared name again (Docker 20.10's BuildKit v0.8 does; a
    // RUN's history shows each with the value in effect then: `|3 A=1 B=2 A=1`).
    s.buildArgs.push({ key: a.key, value });
    if (s.keepsHistory) parts.push(value === undefined ? a.key : `${a.key}=${value}`);
  }
  if (s.keepsHistory) history(s, d, `ARG ${parts.join(' ')}`);
}

export function dispatchUser(s: StageState, ins: UserInstruction, d: DispatchContext): void {
  const user = d.expander.word(ins.user, s.envLookup(), site(d, ins));
  if (user === '') fail(Diagnostics.badArguments, ['USER requires a non-empty user'], site(d, ins));
  s.state = s.state.user(user);
  s.image.config.User = user;
  if (s.keepsHistory) history(s, d, `USER ${user}`);
}

/**
 * WORKDIR: relative to the previous one; the directory is created (owned by USER) like BuildKit, a
 * step (and a layer) unless the path is `/`.
 */
export function dispatchWorkdir(s: StageState, ins: WorkdirInstruction, d: DispatchContext): void {
  const env = s.envLookup();
  const path = d.expander.word(ins.path, env, site(d, ins));
  if (path === '') fail(Diagnostics.badArguments, ['WORKDIR requires a non-empty path'], site(d, ins));
  const wd = posix.resolve(s.image.config.WorkingDir || '/', path);
  // The config and history keep an absolute path as written (`/a/b/` stays `/a/b/`), a relative one
  // joined and cleaned, as BuildKit; the build itself works with the clean path.
  const shown = path.startsWith('/') ? path : wd;
  s.image.config.WorkingDir = shown;
  // An absolute path with `.`/`..` segments stays as written in the RUN working directory (BuildKit
  // v0.8 passes it to runc, whose MkdirAll also creates `/a` for `/a/../b`); others are cleaned.
  s.state = s.state.dir(shown, { asWritten: true });
  let layer = false;
  if (shown !== '/') {
    const name = uppercaseCmd(d.expander.forDisplay(ins.original, env));
    const { description, step } = s.prefixed(name);
    const user = s.image.config.User;
    s.state = s.state.file(
      FileActions.mkdir(wd, 0o755, { makeParents: true, ...(user ? { owner: user } : {}), ...(d.epoch !== undefined ? { timestamp: d.epoch } : {}) }),
      s.constraints(description, step, lineOf(ins)),
    );
    layer = true;
  } else {
    s.prefixed(''); // the step still counts, as in BuildKit
  }
  if (s.keepsHistory) commitHistory(s.image, `WORKDIR ${shown}`, { layer, withState: false, epoch: d.epoch });
}

function commandArgs(s: StageState, ins: CmdInstruction | EntrypointInstruction): string[] {
  return ins.command.form === 'shell' ? [...shellOf(s.image), ins.command.args.join(' ')] : [...ins.command.args];
}

export function dispatchCmd(s: StageState, ins: CmdInstruction, d: DispatchContext): void {
  const args = commandArgs(s, ins);
  s.image.config.Cmd = args;
  s.image.config.ArgsEscaped = true;
  s.cmdSet = true;
  if (s.keepsHistory) history(s, d, `CMD ${goQuoteList(args)}`);
}

export function dispatchEntrypoint(s: StageState, ins: EntrypointInstruction, d: DispatchContext): void {
  const args = ins.command.form === 'exec' && ins.command.args.length === 0 ? [] : commandArgs(s, ins);
  s.image.config.Entrypoint = args.length === 0 ? null : args;
  if (!s.cmdSet) s.image.config.Cmd = null;
  if (s.keepsHistory) history(s, d, `ENTRYPOINT ${goQuoteList(args)}`);
}

export function dispatchHealthcheck(s: StageState, ins: HealthcheckInstruction, d: DispatchContext): void {
  const h: HealthConfig = {
    Test: [...ins.test],
    ...(ins.interval ? { Interval: ins.interval } : {}),
    ...(ins.timeout ? { Timeout: ins.timeout } : {}),
    ...(ins.startPeriod ? { StartPeriod: ins.startPeriod } : {}),
    ...(ins.startInterval ? { StartInterval: ins.startInterval } : {}),
    ...(ins.retries ? { Retries: ins.retries } : {}),
  };
  s.image.config.Healthcheck = h;
  if (s.keepsHistory) history(s, d, healthcheckHistory(h));
}

export function dispatchExpose(s: StageState, ins: ExposeInstruction, d: DispatchContext): void {
  const env = s.envLookup();
  const at = site(d, ins);
  const exposed = (s.image.config.ExposedPorts ??= {});
  const keys: string[] = [];
  // Loops, not flatMap: this runs per EXPOSE, and flatMap with a closure was a visible share.
  for (const word of ins.ports) {
    for (const p of d.expander.words(word, env, at)) {
      const r = parsePortSpec(p);
      if ('error' in r) fail(Diagnostics.badExpose, [p, r.error], at);
      for (const k of exposedPortKeys(r)) {
        exposed[k] = {};
        keys.push(k);
      }
    }
  }
  // BuildKit's `EXPOSE %v` of the expanded port list (`EXPOSE [80/tcp 53/udp]`).
  if (s.keepsHistory) history(s, d, `EXPOSE ${goList(keys)}`);
}

export function dispatchVolume(s: StageState, ins: VolumeInstruction, d: DispatchContext): void {
  const env = s.envLookup();
  const at = site(d, ins);
  const vols = ins.volumes.map((v) => d.expander.word(v, env, at));
  if (vols.some((v) => v === '')) fail(Diagnostics.badArguments, ['VOLUME specified can not be an empty string'], at);
  const volumes = (s.image.config.Volumes ??= {});
  for (const v of vols) volumes[v] = {};
  if (s.keepsHistory) history(s, d, `VOLUME ${goList(vols)}`);
}

export function dispatchStopSignal(s: StageState, ins: StopSignalInstruction, d: DispatchContext): void {
  const sig = d.expander.word(ins.signal, s.envLookup(), site(d, ins));
  if (!isValidSignal(sig)) fail(Diagnostics.badSignal, [sig], site(d, ins));
  s.image.config.StopSignal = sig;
  if (s.keepsHistory) history(s, d, `STOPSIGNAL ${sig}`);
}

export function dispatchShell(s: StageState, ins: ShellInstruction, d: DispatchContext): void {
  s.image.config.Shell = [...ins.shell];
  if (s.keepsHistory) history(s, d, `SHELL ${goList(ins.shell)}`);
}

export function dispatchMaintainer(s: StageState, ins: MaintainerInstruction, d: DispatchContext): void {
  s.image.author = ins.maintainer;
  if (s.keepsHistory) history(s, d, `MAINTAINER ${ins.maintainer}`);
}

/** ONBUILD is recorded, not run: it fires in builds that use this image (or stage) as a base. */
export function dispatchOnbuild(s: StageState, ins: OnbuildInstruction, d: DispatchContext): void {
  // Recorded in the config only: Docker and BuildKit write no history entry for ONBUILD.
  s.image.config.OnBuild = [...(s.image.config.OnBuild ?? []), ins.expression];
  void d;
}
