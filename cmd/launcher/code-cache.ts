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
 * bundle and command word (`build`, `images`…: each command compiles different code), only when
 * the command succeeded (a mistyped word makes no file), atomically (temp name, rename), and
 * never when the directory cannot be written (the command does not notice).
 * File names carry the bundle's content hash (from the build), the Node version, the arch and a
 * tag of node's options: V8 checks its own version and flags, but checks the source only by
 * length, so a rebuilt bundle of the same length must never meet an old cache. Writing a cache removes the bundle's files
 * with another hash. TSBUILD_CODE_CACHE names the directory, or `off`; the default is
 * $XDG_CACHE_HOME/tsbuild/code-cache (~/.cache/tsbuild/code-cache).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

export interface CodeCacheOptions {
  /** Where cache files live; undefined turns the cache off (bundles still load). */
  readonly dir: string | undefined;
  /** Part of each file name: the command word, so each command keeps the code it compiles. */
  readonly key: string;
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
  /** The cache file to (re)write at exit, when there was none or V8 rejected it. */
  readonly write: string | undefined;
}

/**
 * Loads CommonJS bundles through one code cache. `load(file)` runs a bundle once and returns its
 * module.exports (as `require` would: a second call returns the same exports).
 */
export class BundleLoader {
  readonly #opts: CodeCacheOptions;
  readonly #loaded = new Map<string, { readonly exports: unknown; readonly entry: Loaded }>();
  #exitHook = false;

  constructor(opts: CodeCacheOptions) {
    this.#opts = opts;
  }

  load(file: string): unknown {
    const known = this.#loaded.get(file);
    if (known) return known.exports;
    // The bundles are ASCII (the build checks it): latin1 makes a one-byte string without a UTF-8 pass.
    const source = readFileSync(file, 'latin1');
    const hash = this.#opts.hashes[basename(file)];
    const cacheFile = this.#opts.dir !== undefined && hash !== undefined ? join(this.#opts.dir, `${basename(file)}-${this.#opts.key}-${hash}-${process.version}-${process.arch}-${flagsTag()}.v8`) : undefined;
    let cachedData: Buffer | undefined;
    if (cacheFile !== undefined) {
      try {
        cachedData = readFileSync(cacheFile);
      } catch {
        // none yet
      }
    }
    // The bundle is stored wrapped (scripts/bundle.mjs): its value is the CommonJS module function.
    // Wrapping it here would make V8 flatten a second 1 MB copy of the source (and scavenge).
    const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
    const write = cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true) ? cacheFile : undefined;
    const entry: Loaded = { script, file, hash: hash ?? '', write };
    const mod = { exports: {} as unknown };
    const fn = script.runInThisContext() as (e: unknown, r: NodeRequire, m: unknown, f: string, d: string) => void;
    // Registered before the bundle runs: a bundle that loads another one reaches it through `load`.
    this.#loaded.set(file, { get exports() { return mod.exports; }, entry });
    if (write !== undefined) this.#hookExit();
    fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
    return mod.exports;
  }

  #hookExit(): void {
    if (this.#exitHook) return;
    this.#exitHook = true;
    process.once('exit', (code) => {
      if (code !== 0) return;
      for (const { entry } of this.#loaded.values()) if (entry.write !== undefined) writeCache(entry);
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

function writeCache(e: Loaded): void {
  const file = e.write as string;
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
