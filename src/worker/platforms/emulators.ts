/**
 * Which platforms this machine can run RUN steps for: its own, the ones its CPU runs natively
 * (386 on amd64, arm on arm64), and every one a binfmt_misc handler emulates (qemu-user-static).
 *
 * Finding out must not cost every build (Docker 20.10's BuildKit runs ~30 emulators on each one):
 * the report is keyed by the digest of binfmt_misc's handlers (cheap procfs reads), kept in memory
 * (a daemon) and in a file of the data root (CLI processes), and the probe — one tiny program per
 * architecture, run through the handler — happens only when that key changes. A build for the
 * host's own platform never reads binfmt_misc at all.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatPlatform, hostPlatform, parsePlatform } from '../../llb/platform.js';
import type { LLBPlatform } from '../../llb/types.js';
import { DEFAULT_BINFMT_DIR, entryMatches, readBinfmt, type BinfmtState } from './binfmt.js';
import { EmulatorErrors } from './emulator-errors.js';
import { PROBE_EXIT_CODE, PROBE_PROGRAMS, type ProbeProgram } from './probe-binaries.js';
import type { EmulatorReport, PlatformSupport } from './types.js';

export type { EmulatorReport, PlatformStatus, PlatformSupport } from './types.js';

export interface EmulatorsOptions {
  /** Where binfmt_misc is mounted. Default /proc/sys/fs/binfmt_misc (tests point it at a fake one). */
  readonly binfmtDir?: string;
  /** The persisted report; absent: memory only. */
  readonly cacheFile?: string;
  /** A directory for the probe programs (must allow exec). */
  readonly tmpDir: string;
}

/** Platforms the host CPU runs without an emulator, beside its own. */
const COMPAT: Readonly<Record<string, readonly string[]>> = { amd64: ['linux/386'], arm64: ['linux/arm/v7', 'linux/arm/v6'] };

export class Emulators {
  readonly #opts: EmulatorsOptions;
  #last: EmulatorReport | undefined;
  #probing: Promise<EmulatorReport> | undefined;
  /** How many times programs were run (tests and benchmarks check that a rebuild runs none). */
  probes = 0;

  constructor(opts: EmulatorsOptions) {
    this.#opts = opts;
  }

  get binfmtDir(): string {
    return this.#opts.binfmtDir ?? DEFAULT_BINFMT_DIR;
  }

  /** The current report: from memory or the file when binfmt_misc is unchanged, else probed. */
  async report(signal: AbortSignal): Promise<EmulatorReport> {
    const state = readBinfmt(this.binfmtDir);
    if (this.#last?.key === state.key) return this.#last;
    const saved = await this.#load();
    if (saved?.key === state.key) return (this.#last = saved);
    this.#probing ??= this.#probe(state, signal).finally(() => (this.#probing = undefined));
    return (this.#last = await this.#probing);
  }

  /** Every platform RUN steps can run for here, host first. */
  async runnable(signal: AbortSignal): Promise<string[]> {
    const r = await this.report(signal);
    return [formatPlatform(hostPlatform()), ...r.platforms.filter((p) => p.status === 'native' || p.status === 'emulated').map((p) => p.platform)];
  }

  /**
   * Throws a UserInputError naming what is missing (the qemu-user-static package, a binfmt_misc
   * registration, its F flag) when a platform of `platforms` cannot run here. The host's own
   * platform costs nothing.
   */
  async require(platforms: readonly LLBPlatform[], signal: AbortSignal): Promise<void> {
    const host = formatPlatform(hostPlatform());
    const foreign = [...new Set(platforms.map(formatPlatform))].filter((p) => p !== host);
    if (foreign.length === 0) return;
    const r = await this.report(signal);
    for (const p of foreign) {
      const s = r.platforms.find((x) => x.platform === p);
      if (s?.status === 'native' || s?.status === 'emulated') continue;
      const can = await this.runnable(signal);
      throw s === undefined ? EmulatorErrors.unknown(p, host, can) : EmulatorErrors.cannotRun(s, r, can);
    }
  }

  async #load(): Promise<EmulatorReport | undefined> {
    if (!this.#opts.cacheFile) return undefined;
    try {
      const r = JSON.parse(await readFile(this.#opts.cacheFile, 'utf8')) as EmulatorReport;
      return typeof r.key === 'string' && Array.isArray(r.platforms) ? r : undefined;
    } catch {
      return undefined;
    }
  }

  async #save(r: EmulatorReport): Promise<void> {
    const file = this.#opts.cacheFile;
    if (!file) return;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(r)}\n`);
      await rename(tmp, file);
    } catch {
      // Only a cache: the next process probes again.
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async #probe(state: BinfmtState, signal: AbortSignal): Promise<EmulatorReport> {
    const host = hostPlatform();
    const hostName = formatPlatform(host);
    const compat = COMPAT[host.architecture] ?? [];
    const dir = await mkdtemp(join(this.#opts.tmpDir, 'binfmt-probe-'));
    try {
      const results = await Promise.all(PROBE_PROGRAMS.map(async (prog): Promise<PlatformSupport[]> => {
        const names = prog.platforms.filter((p) => p !== hostName && formatPlatform(parsePlatform(p)) !== hostName);
        if (names.length < prog.platforms.length) return [];
        const one = await this.#probeOne(prog, state, compat.some((c) => prog.platforms.includes(c)), dir, signal);
        return names.map((platform) => ({ ...one, platform }));
      }));
      const report: EmulatorReport = { key: state.key, binfmtDir: state.dir, binfmtAvailable: state.available, probedAt: Date.now(), platforms: results.flat() };
      await this.#save(report);
      return report;
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  async #probeOne(prog: ProbeProgram, state: BinfmtState, compat: boolean, dir: string, signal: AbortSignal): Promise<Omit<PlatformSupport, 'platform'>> {
    const base = { machine: prog.machineName };
    const matching = state.entries.filter((e) => entryMatches(e, prog.bytes));
    const handler = matching.find((e) => e.enabled);
    if (!handler && !compat) {
      const off = matching[0];
      return off ? { ...base, status: 'disabled', handler: off.name, interpreter: off.interpreter } : { ...base, status: 'no-handler' };
    }
    const via = handler ? { handler: handler.name, interpreter: handler.interpreter } : {};
    if (handler && !handler.flags.includes('F')) return { ...base, ...via, status: 'no-fix-binary' };
    const file = join(dir, prog.machineName);
    await writeFile(file, prog.bytes);
    await chmod(file, 0o755);
    this.probes++;
    const outcome = await runProgram(file, signal);
    if (outcome === PROBE_EXIT_CODE) return { ...base, ...via, status: handler ? 'emulated' : 'native' };
    return handler ? { ...base, ...via, status: 'failed', detail: typeof outcome === 'string' ? outcome : `exit status ${outcome}` } : { ...base, status: 'no-handler' };
  }
}

/** Runs a probe program directly (never through a shell); its exit status, or why it did not run. */
function runProgram(file: string, signal: AbortSignal): Promise<number | string> {
  return new Promise((resolve) => {
    const child = spawn(file, [], { stdio: 'ignore', signal, timeout: 10_000 });
    child.on('error', (e) => resolve(e.message));
    child.on('close', (code, sig) => resolve(code ?? `killed by ${sig ?? 'a signal'}`));
  });
}
