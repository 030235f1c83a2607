/**
 * The builder API (BuildKit's `llb.State`): an immutable value holding a filesystem output plus the
 * env/cwd/user/platform that steps built on it use. Every method returns a new State; nothing is
 * encoded until `marshal()`.
 *
 *   const base = State.image('alpine').addEnv('A', '1').dir('/src');
 *   const built = base.run({ args: ['/bin/sh', '-c', 'make'] }).root();
 *   const def = built.marshal();   // def.bytes → solver, def.loaded → typed graph
 */
import { buildExecNode } from './exec.js';
import type { ExecNode, RunOptions } from './exec.js';
import { buildFileNode } from './file-actions.js';
import type { FileActions } from './file-actions.js';
import { buildMerge } from './merge.js';
import { marshalOutput, marshalOutputAsync } from './marshal.js';
import type { MarshalOptions } from './marshal.js';
import type { Output } from './op-node.js';
import { gitSource, httpSource, imageSource, localSource } from './sources.js';
import type { GitSourceOptions, HttpSourceOptions, ImageSourceOptions, LocalSourceOptions } from './sources.js';
import type { EnvEntry, EnvList } from './env-list.js';
import { INITIAL_META, resolvePath } from './state-meta.js';
import type { NetworkMode, SecurityMode, StateLike, StateMeta } from './state-meta.js';
import type { Definition, LLBPlatform, OpConstraints } from './types.js';

/** A `.` or `..` segment in a path. */
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

export class State implements StateLike {
  private constructor(
    readonly output: Output | undefined,
    readonly meta: StateMeta,
  ) {}

  /** A new State from this one (the env list and its cached strings are shared, never copied). */
  private derive(output: Output | undefined, meta: StateMeta): State {
    return new State(output, meta);
  }

  /** The empty filesystem. */
  static scratch(): State {
    return new State(undefined, INITIAL_META);
  }

  /** A container image (`alpine` → `docker-image://docker.io/library/alpine:latest`). */
  static image(ref: string, opts: ImageSourceOptions = {}): State {
    const meta = opts.platform ? { ...INITIAL_META, platform: opts.platform } : INITIAL_META;
    return new State(imageSource(ref, opts).output(0), meta);
  }

  /** A local directory sent by the client (`local://context`). */
  static local(name: string, opts: LocalSourceOptions | (() => LocalSourceOptions) = {}, constraints?: OpConstraints): State {
    return new State(localSource(name, opts, constraints).output(0), INITIAL_META);
  }

  /** One file downloaded from an http(s) URL. */
  static http(url: string, opts: HttpSourceOptions = {}): State {
    return new State(httpSource(url, opts).output(0), INITIAL_META);
  }

  /** A git repository checkout. */
  static git(remote: string, opts: GitSourceOptions = {}): State {
    return new State(gitSource(remote, opts).output(0), INITIAL_META);
  }

  /** Union of filesystems, later ones on top; meta is taken from the first state. */
  static merge(states: readonly State[], constraints?: OpConstraints): State {
    const first = states[0];
    if (!first) return State.scratch();
    return new State(buildMerge(states.map((s) => s.output), constraints), first.meta);
  }

  get isScratch(): boolean {
    return this.output === undefined;
  }

  /** Same meta, another filesystem. */
  withOutput(output: Output | undefined): State {
    return this.derive(output, this.meta);
  }

  /** Same filesystem, meta replaced (for callers that track meta themselves). */
  withMeta(meta: StateMeta): State {
    return this.derive(this.output, meta);
  }

  addEnv(key: string, value: string): State {
    return this.derive(this.output, { ...this.meta, env: this.meta.env.set(key, value) });
  }

  /** Replaces the whole environment. */
  withEnvList(env: EnvList): State {
    return this.derive(this.output, { ...this.meta, env });
  }

  getEnv(key: string): string | undefined {
    return this.meta.env.get(key);
  }

  envList(): readonly EnvEntry[] {
    return this.meta.env.entries();
  }

  /**
   * Sets the working directory; relative paths resolve against the current one. With `asWritten`
   * an absolute path with `.`/`..` segments is kept as given (`/a/../b`, as BuildKit's llb.Dir
   * keeps it): the executor cleans it, but first creates every directory the path names (`/a`
   * too), as runc does. Other paths are cleaned either way.
   */
  dir(path: string, opts: { readonly asWritten?: boolean } = {}): State {
    const cwd = opts.asWritten && path.startsWith('/') && DOT_SEGMENT.test(path) ? path : resolvePath(this.meta.cwd, path);
    return this.derive(this.output, { ...this.meta, cwd });
  }

  getDir(): string {
    return this.meta.cwd;
  }

  user(user: string): State {
    return this.derive(this.output, { ...this.meta, user });
  }

  getUser(): string {
    return this.meta.user;
  }

  platform(platform: LLBPlatform | undefined): State {
    return this.derive(this.output, { ...this.meta, platform });
  }

  getPlatform(): LLBPlatform | undefined {
    return this.meta.platform;
  }

  network(network: NetworkMode): State {
    return this.derive(this.output, { ...this.meta, network });
  }

  security(security: SecurityMode): State {
    return this.derive(this.output, { ...this.meta, security });
  }

  hostname(hostname: string): State {
    return this.derive(this.output, { ...this.meta, hostname });
  }

  /** Runs a process on this filesystem. */
  run(opts: RunOptions): ExecState {
    return new ExecState(this, buildExecNode(this, opts, this.meta.env.strings()));
  }

  /** Applies file actions to this filesystem. */
  file(actions: FileActions, constraints?: OpConstraints): State {
    return this.derive(buildFileNode(this, actions, constraints).output(0), this.meta);
  }

  /** Encodes the graph that produces this state's filesystem. */
  marshal(opts: MarshalOptions = {}): Definition {
    return marshalOutput(this.output, opts);
  }

  /** `marshal()` that yields to the event loop every few thousand ops and honours `signal`. */
  marshalAsync(opts: MarshalOptions & { readonly signal?: AbortSignal | undefined } = {}): Promise<Definition> {
    return marshalOutputAsync(this.output, opts);
  }
}

/** The result of `State.run()`: the root filesystem after the step, and any writable mounts. */
export class ExecState {
  constructor(
    private readonly base: State,
    private readonly exec: ExecNode,
  ) {}

  /** The root filesystem after the process ran (meta unchanged). */
  root(): State {
    return this.base.withOutput(this.exec.node.output(0));
  }

  /** The filesystem of a mount created with `output: true`, after the process ran. */
  mount(target: string): State {
    const target0 = resolvePath(this.base.meta.cwd, target);
    const i = this.exec.outputs.get(target0);
    if (i === undefined) throw new Error(`run: mount ${target} has no output`);
    return State.scratch().withOutput(this.exec.node.output(i));
  }
}
