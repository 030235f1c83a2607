/**
 * RUN → ExecOp: shell form through SHELL, heredocs as BuildKit runs them, --mount of every kind,
 * --network, --security, proxy build args. The state's env (ENV + ARGs in scope) becomes the
 * process env, so an ARG change changes the digest of the RUN steps that see it and no others.
 */
import { posix } from 'node:path';
import { FileActions } from '../../../llb/file-actions.js';
import { State } from '../../../llb/state.js';
import type { ExecMount } from '../../../llb/exec.js';
import { joinRoot } from '../../../llb/state-meta.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import { heredocBody, heredocMarkerName } from '../instructions/heredoc.js';
import { parseMountAt } from '../instructions/parse-run.js';
import type { RunInstruction } from '../instructions/instruction.js';
import type { EnvLookup } from '../shell/types.js';
import type { ErrorSite } from '../instructions/diagnostics.js';
import { commitHistory, shellOf } from './image-config.js';
import { lineOf, site, uppercaseCmd } from './dispatch-context.js';
import type { DispatchContext } from './dispatch-context.js';
import type { BuildArg, StageState } from './stage-state.js';

/** BuildKit's summarizeHeredoc: first line of the trimmed body, `...` when there are more. */
function summarizeHeredoc(doc: string): string {
  // The first line and whether there is another, without splitting the whole body.
  const t = doc.trim();
  const nl = t.indexOf('\n');
  if (nl < 0) return t;
  // A `\r\n` ending the first line was a `\n` once normalised; a lone `\r` stays.
  return `${t.slice(0, nl > 0 && t.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl)}...`;
}

/**
 * The `|2 A=1 B=2 ` that starts a RUN's history text (`|2 A=1 B=2 /bin/sh -c make`): the stage's
 * ARG declarations in order, a re-declared name once per declaration, each with the value in
 * effect (ENV values winning), as Docker 20.10; '' without ARGs.
 */
function buildArgsPrefix(buildArgs: readonly BuildArg[], env: EnvLookup): string {
  if (buildArgs.length === 0) return '';
  return `|${buildArgs.length} ${buildArgs.map((a) => `${a.key}=${env(a.key) ?? a.value ?? ''}`).join(' ')} `;
}

/**
 * A RUN's history text after `RUN ` for `s` now. The ARG part is the same for every RUN between two
 * ENV/ARG lines (the stage's ARG list only grows, and the env is a persistent list that a change
 * replaces), so the stage keeps the last one with the list length and env it was made for.
 */
function stageRunCommandString(s: StageState, args: readonly string[], env: EnvLookup): string {
  const count = s.buildArgs.length;
  const envList = s.state.meta.env;
  let memo = s.runArgsPrefix;
  if (memo === undefined || memo.count !== count || memo.env !== envList) {
    memo = { count, env: envList, text: buildArgsPrefix(s.buildArgs, env) };
    s.runArgsPrefix = memo;
  }
  return memo.text + args.join(' ');
}

/** Characters that make shell-word expansion change a word (Expander's set for both escape tokens). */
const EXPANDABLE = /[$'"\\`]/;

interface Mounts {
  readonly mounts: ExecMount[];
  readonly secretEnv: { id: string; name: string; optional: boolean }[];
}

/** No mounts and no secret env (most RUN steps): one shared value, never modified. */
const NO_MOUNTS: Mounts = { mounts: [], secretEnv: [] };

function runMounts(s: StageState, ins: RunInstruction, d: DispatchContext, env: EnvLookup, at: ErrorSite): Mounts {
  if (ins.mounts.length === 0) return NO_MOUNTS;
  const out: Mounts = { mounts: [], secretEnv: [] };
  let sshIndex = 0;
  for (const spec of ins.mounts) {
    // Without any character expansion acts on (under either escape token), every value expands
    // to itself, so the spec parses exactly as it did when the instruction was typed.
    const m = EXPANDABLE.test(spec.raw) ? parseMountAt(spec.raw, at, (v) => d.expander.word(v, env, at)) : spec.mount;
    const cwd = s.state.getDir();
    const target = m.target === undefined ? undefined : posix.resolve(cwd, m.target);
    if (target === '/') fail(Diagnostics.badMount, [`invalid mount target "${m.target ?? ''}": cannot mount over /`], at);
    const from = m.from === undefined ? undefined : d.sourceOf(m.from, ins, s);
    const selector = m.source === undefined ? '' : joinRoot(m.source);
    switch (m.type) {
      case 'bind': {
        if (!from) d.ctxPaths.add(selector || '/');
        // Absent options undefined, not spread in: a spread builds the literal property by property.
        out.mounts.push({ type: 'bind', target: target as string, source: from ? from.state : d.context, readonly: m.readonly, selector: selector && selector !== '/' ? selector : undefined });
        break;
      }
      case 'cache':
        out.mounts.push({
          type: 'cache', target: target as string, id: m.id ?? target as string, sharing: m.sharing ?? 'shared', readonly: m.readonly,
          source: from ? from.state : undefined, selector: selector && selector !== '/' ? selector : undefined, mode: m.mode, uid: m.uid, gid: m.gid,
        });
        break;
      case 'tmpfs':
        out.mounts.push({ type: 'tmpfs', target: target as string, ...(m.size !== undefined ? { size: m.size } : {}) });
        break;
      case 'secret': {
        const id = m.id ?? m.source ?? (target !== undefined ? posix.basename(target) : m.env ?? '');
        if (m.env !== undefined) out.secretEnv.push({ id, name: m.env, optional: !m.required });
        if (m.env === undefined || target !== undefined) {
          out.mounts.push({ type: 'secret', target: target ?? `/run/secrets/${id}`, id, mode: m.mode ?? 0o400, uid: m.uid ?? 0, gid: m.gid ?? 0, optional: !m.required });
        }
        break;
      }
      case 'ssh': {
        const id = m.id ?? 'default';
        out.mounts.push({ type: 'ssh', target: target ?? `/run/buildkit/ssh_agent.${sshIndex}`, id, mode: m.mode ?? 0o600, uid: m.uid ?? 0, gid: m.gid ?? 0, optional: !m.required });
        sshIndex++;
        break;
      }
    }
  }
  return out;
}

export function dispatchRun(s: StageState, ins: RunInstruction, d: DispatchContext, opts: { onbuild: boolean }): void {
  const at = site(d, ins);
  // Copied only where it is replaced below; the ExecOp is encoded at once and keeps no reference.
  let args: readonly string[] = ins.command.args;
  let customName = ins.original;
  const extra: ExecMount[] = [];
  if (ins.heredocs.length > 0) {
    if (ins.command.form !== 'shell' || args.length !== 1) fail(Diagnostics.badArguments, ['RUN with a heredoc must use the shell form'], at);
    const first = ins.heredocs[0];
    if (first && heredocMarkerName((args[0] as string).trim()) === first.name && ins.heredocs.length === 1) {
      const data = heredocBody(first);
      if (data.startsWith('#!')) {
        // A script with its own interpreter: made into a file and run directly (BuildKit's way).
        const script = State.scratch().platform(s.platform).file(
          FileActions.mkfile(first.name, 0o755, data),
          { description: '[internal] preparing inline document' },
        );
        extra.push({ type: 'bind', target: '/dev/pipes/', source: script, readonly: true });
        args = [posix.join('/dev/pipes/', first.name)];
      } else {
        args = [data];
      }
      customName += ` (${summarizeHeredoc(first.content)})`;
    } else {
      // The heredocs go back into the command line; the shell reads them itself.
      args = [ins.heredocs.reduce((acc, h) => `${acc}\n${h.content}${h.name}`, args[0] as string)];
    }
  }
  if (ins.command.form === 'shell') args = [...shellOf(s.image), args.join(' ')];
  const env = s.envLookup();
  const mounts = runMounts(s, ins, d, env, at);
  const name = uppercaseCmd(d.expander.forDisplay(customName, env));
  const history = s.keepsHistory ? `RUN ${stageRunCommandString(s, args, env)}` : '';
  const { description, step } = s.prefixed(name, opts);
  // One options object of one shape, absent options undefined (no spreads: this runs per RUN).
  s.state = s.state.run({
    args,
    mounts: extra.length === 0 && d.shmMount === undefined ? mounts.mounts : [...extra, ...mounts.mounts, ...(d.shmMount ? [d.shmMount] : [])],
    secretEnv: mounts.secretEnv,
    proxyEnv: d.proxyEnv,
    network: ins.network ?? d.forceNetwork,
    extraHosts: d.extraHosts,
    ulimits: d.ulimits,
    security: ins.security,
    constraints: s.constraints(description, step, lineOf(ins)),
  }).root();
  if (s.keepsHistory) commitHistory(s.image, history, { layer: true, withState: true, epoch: d.epoch });
}
