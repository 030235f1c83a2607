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
import { marshalOutput } from './marshal.js';
import type { MarshalOptions } from './marshal.js';
import type { Output } from './op-node.js';
import { gitSource, httpSource, imageSource, localSource } from './sources.js';
import type { GitSourceOptions, HttpSourceOptions, ImageSourceOptions, LocalSourceOptions } from './sources.js';
import { envLookup, INITIAL_META, resolvePath, withEnv } from './state-meta.js';
import type { EnvEntry, NetworkMode, SecurityMode, StateLike, StateMeta } from './state-meta.js';
import type { Definition, LLBPlatform, OpConstraints } from './types.js';

/**
 * Lookups derived from one env list, computed on first use and shared by every State holding that
 * same (immutable) list — a chain of steps without ENV/ARG in between builds them once.
 */
class EnvCache {
  private index: Map<string, string> | undefined;
  private strings: readonly string[] | undefined;

  /** Set while this list's strings are not built yet and `prev`'s are (kept no longer than that). */
  private prev: EnvCache | undefined;

  /** `from`: the cache of the env list this one was derived from, whose strings it may reuse. */
  constructor(readonly env: readonly EnvEntry[], from?: EnvCache) {
    // Only a predecessor with strings is worth keeping, and chains of them are never kept.
    this.prev = from?.strings ? from : undefined;
  }

  get(key: string): string | undefined {
    // A scan beats building a Map until lists are long: most lists see only a few lookups.
    if (this.env.length < 32) return envLookup(this.env, key);
    if (!this.index) {
      this.index = new Map();
      for (const [k, v] of this.env) this.index.set(k, v);
    }
    return this.index.get(key);
  }

  /**
   * `KEY=VALUE` strings, as ExecOp meta carries them. An ENV or ARG changes one entry of the list
   * (withEnv keeps the other entry tuples), so the strings of unchanged entries are taken from the
   * list this one came from instead of being built again.
   */
  list(): readonly string[] {
    if (this.strings) return this.strings;
    const prev = this.prev?.strings;
    const prevEnv = this.prev?.env;
    this.prev = undefined;
    this.strings = this.env.map((e, i) => (prev !== undefined && prevEnv?.[i] === e ? prev[i] as string : `${e[0]}=${e[1]}`));
    return this.strings;
  }
}

export class State implements StateLike {
  private readonly envCache: EnvCache;

  private constructor(
    readonly output: Output | undefined,
    readonly meta: StateMeta,
    envCache?: EnvCache,
  ) {
    this.envCache = envCache?.env === meta.env ? envCache : new EnvCache(meta.env, envCache);
  }

  /** A new State from this one; env lookups are shared while the env list is the same. */
  private derive(output: Output | undefined, meta: StateMeta): State {
    return new State(output, meta, this.envCache);
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
    return new State(buildMerge(states.map((s) => s.output), constraints), first.meta, first.envCache);
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
    return this.derive(this.output, { ...this.meta, env: withEnv(this.meta.env, key, value) });
  }

  /** Replaces the whole environment. */
  withEnvList(env: readonly EnvEntry[]): State {
    return this.derive(this.output, { ...this.meta, env });
  }

  getEnv(key: string): string | undefined {
    return this.envCache.get(key);
  }

  envList(): readonly EnvEntry[] {
    return this.meta.env;
  }

  /** Sets the working directory; relative paths resolve against the current one. */
  dir(path: string): State {
    return this.derive(this.output, { ...this.meta, cwd: resolvePath(this.meta.cwd, path) });
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
    return new ExecState(this, buildExecNode(this, opts, this.envCache.list()));
  }

  /** Applies file actions to this filesystem. */
  file(actions: FileActions, constraints?: OpConstraints): State {
    return this.derive(buildFileNode(this, actions, constraints).output(0), this.meta);
  }

  /** Encodes the graph that produces this state's filesystem. */
  marshal(opts: MarshalOptions = {}): Definition {
    return marshalOutput(this.output, opts);
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
