/**
 * Loads the CLI's CommonJS bundles (dist/bin/*.cjs, made by scripts/bundle.mjs) with a V8 code
 * cache, so a command does not compile its code again on every run (issue 10's start-up). Node 20
 * has no compile cache for modules (module.enableCompileCache is Node 22), and compiling the ES
 * module bundle was the largest single cost of a no-op build through the daemon (~35 ms).
 *
 * A bundle is compiled with vm.Script, with the cached data of an earlier run when there is one;
 * the build stores each bundle inside the wrapper Node's CommonJS loader uses, so the script's
 * value is the module function (see scripts/bundle.mjs). The cache is written when the process exits,
 * after the command ran, so it holds the functions the command actually compiled: one file per
 * bundle and run kind (`build`, `images`…: each command compiles different code; and each again
 * through a daemon (`build.daemon`: the gRPC client) or in this process (`build`: the engine), and
 * for its `--help` (`build.help`), since a cache V8 accepts is never written again and a run of one
 * kind leaves out most of another's code: the first build of a machine was often an in-process one,
 * and every daemon build after it compiled its client, ~10 ms of CPU, issue 14). The kind is
 * guessed before the bundle loads (the launcher's guessRunVia) and told by the CLI once it knows
 * (`ranVia`); a run whose kind has no file yet reads the other kind's, and writes its own. Written
 * only when the command succeeded (a mistyped word makes no file), atomically (temp name, rename),
 * and never when the directory cannot be written (the command does not notice).
 * File names carry the bundle's content hash (from the build), the Node version, the arch and a
 * tag of node's options: V8 checks its own version and flags, but checks the source only by
 * length, so a rebuilt bundle of the same length must never meet an old cache. Writing a cache removes the bundle's files
 * with another hash. TSBUILD_CODE_CACHE names the directory, or `off`; the default is
 * $XDG_CACHE_HOME/tsbuild/code-cache (~/.cache/tsbuild/code-cache).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** How a command runs: through a daemon, or with the engine (or nothing more) in this process. */
export type RunVia = 'daemon' | 'local';

export interface CodeCacheOptions {
  /** Where cache files live; undefined turns the cache off (bundles still load). */
  readonly dir: string | undefined;
  /** Part of each file name, by how the command runs: the command word, so each kind of run keeps the code it compiles. */
  readonly key: (via: RunVia) => string;
  /** How the command is expected to run (its file is read first; the other kind's when it has none). */
  readonly guess: RunVia;
  /** Content hash of each bundle by file name (written into the launcher by scripts/bundle.mjs). */
  readonly hashes: Readonly<Record<string, string>>;
}

/** The cache directory for `env`: TSBUILD_CODE_CACHE, `off` for none, else the XDG cache dir. */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const v = env['TSBUILD_CODE_CACHE'];
  if (v === 'off') return undefined;
  if (v) return v;
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'tsbuild', 'code-cache');
}

interface Loaded {
  readonly script: Script;
  readonly file: string;
  readonly hash: string;
  /** The cache file V8 took the code from; undefined when there was none or it was rejected. */
  readonly used: string | undefined;
  /** A cache file V8 rejected (written again at exit when it is this run's own). */
  readonly rejected: string | undefined;
}

/**
 * Loads CommonJS bundles through one code cache. `load(file)` runs a bundle once and returns its
 * module.exports (as `require` would: a second call returns the same exports).
 */
export class BundleLoader {
  readonly #opts: CodeCacheOptions;
  readonly #loaded = new Map<string, { readonly exports: unknown; readonly entry: Loaded }>();
  /** The end of every cache file name: Node's version, the arch and node's options. */
  readonly #suffix = `${process.version}-${process.arch}-${flagsTag()}.v8`;
  #via: RunVia;
  #exitHook = false;

  constructor(opts: CodeCacheOptions) {
    this.#opts = opts;
    this.#via = opts.guess;
  }

  /** How the command actually ran (the CLI says so once it knows): names the files written at exit. */
  ranVia(via: RunVia): void {
    this.#via = via;
  }

  load(file: string): unknown {
    const known = this.#loaded.get(file);
    if (known) return known.exports;
    // The bundles are ASCII (the build checks it): latin1 makes a one-byte string without a UTF-8 pass.
    const source = readFileSync(file, 'latin1');
    // The guessed kind's file, else the other kind's (one file when both kinds share a key: --help).
    const other: RunVia = this.#opts.guess === 'daemon' ? 'local' : 'daemon';
    const candidates = new Set([this.#cacheFile(file, this.#opts.guess), this.#cacheFile(file, other)]);
    let cacheFile: string | undefined;
    let cachedData: Buffer | undefined;
    for (cacheFile of candidates) {
      if (cacheFile === undefined) break;
      try {
        cachedData = readFileSync(cacheFile);
        break;
      } catch {
        // none yet
      }
    }
    // The bundle is stored wrapped (scripts/bundle.mjs): its value is the CommonJS module function.
    // Wrapping it here would make V8 flatten a second 1 MB copy of the source (and scavenge).
    const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
    const taken = cachedData !== undefined && script.cachedDataRejected !== true;
    const entry: Loaded = { script, file, hash: this.#opts.hashes[basename(file)] ?? '', used: taken ? cacheFile : undefined, rejected: cachedData !== undefined && !taken ? cacheFile : undefined };
    const mod = { exports: {} as unknown };
    const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: unknown, f: string, d: string) => void;
    // Registered before the bundle runs: a bundle that loads another one reaches it through `load`.
    this.#loaded.set(file, { get exports() { return mod.exports; }, entry });
    this.#hookExit();
    fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
    return mod.exports;
  }

  /** The cache file of `file` for runs of kind `via`; undefined with the cache off or an unknown bundle. */
  #cacheFile(file: string, via: RunVia): string | undefined {
    const hash = this.#opts.hashes[basename(file)];
    if (this.#opts.dir === undefined || hash === undefined) return undefined;
    return join(this.#opts.dir, `${basename(file)}-${this.#opts.key(via)}-${hash}-${this.#suffix}`);
  }

  #hookExit(): void {
    if (this.#exitHook || this.#opts.dir === undefined) return;
    this.#exitHook = true;
    process.once('exit', (code) => {
      if (code !== 0) return;
      for (const { entry } of this.#loaded.values()) {
        const own = this.#cacheFile(entry.file, this.#via);
        // This run's own file when V8 took none from it: it was missing (or another kind's was
        // read), or rejected. One that another run wrote meanwhile is left as it is.
        if (own === undefined || own === entry.used) continue;
        if (own === entry.rejected || !existsSync(own)) writeCache(entry, own);
      }
    });
  }
}

/**
 * A short tag of node's own options: V8 rejects a cache made under other V8 flags (`node
 * --some-v8-flag tsbuild.cjs`, NODE_OPTIONS), so each set of options keeps its own file instead of
 * two ways of running rewriting one file in turn. FNV-1a: node:crypto would cost more than it saves.
 */
function flagsTag(): string {
  const text = `${process.execArgv.join(' ')}|${process.env['NODE_OPTIONS'] ?? ''}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function writeCache(e: Loaded, file: string): void {
  const dir = dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const data = e.script.createCachedData();
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    // Caches of this bundle's earlier builds can never be used again.
    const prefix = `${basename(e.file)}-`;
    for (const f of readdirSync(dir)) {
      if (f.startsWith(prefix) && f.endsWith('.v8') && !f.includes(`-${e.hash}-`)) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // A cache that cannot be written only costs the next run its compile time.
    rmSync(tmp, { force: true });
  }
}
