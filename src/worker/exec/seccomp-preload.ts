/**
 * A RUN step's seccomp filter compiled once, not by runc at every RUN.
 *
 * runc turns the spec's `linux.seccomp` allow list into a BPF program through libseccomp inside
 * every `runc init`: 16-17 ms of a bare `runc run` of ~39 ms here (docs/benchmarks.md,
 * s16-seccomp), for the same program each time. So the first time a policy is needed, tsbuild runs
 * one small capture container with that policy whose process (tsbuild-run-init --hold, from
 * native/run-init.c) waits, reads the program runc loaded into it with ptrace
 * (PTRACE_SECCOMP_GET_FILTER: exactly runc's bytes, its ENOSYS stub included) and keeps it in
 * ROOT/seccomp. Later RUNs get a spec without `linux.seccomp` whose process is tsbuild-run-init,
 * started from an inherited fd: it loads that program at the point where runc would have (after
 * the capabilities and no_new_privs, right before the command's execve), then execs the command.
 *
 * The program is a function of the policy, runc and libseccomp (the binaries' identity) and the
 * kernel (libseccomp probes its features): all four are in the file's key. The first RUN with a
 * policy in a data root waits for its capture (~40 ms, once); whenever a capture fails, runc
 * compiles the filter itself as before. TSBUILD_SECCOMP_PRELOAD=0 turns the preload off.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { errorMessage, TsbuildError } from '../../util/errors.js';
import { sha256Hex } from '../../llb/digest.js';
import { nativeProgram } from '../../util/native-sys.js';
import { writeFileAtomic } from '../snapshot/atomic-file.js';
import { cgroupDirs, cgroupPathFor, removeCgroupDirs } from './cgroups.js';
import { runContainer } from './container-process.js';
import type { Runc, RuncFds } from './runc.js';
import { buildRuntimeSpec } from './runtime-spec.js';
import type { RuntimeSpec } from './runtime-spec.js';
import type { SeccompPolicy } from './seccomp.js';
import { writeOwner } from './stale-runs.js';

/** The program's file name in native/build/Release. */
export const RUN_INIT = 'tsbuild-run-init';

/** How the container's process names tsbuild-run-init: the fd runc passes it on (`--preserve-fds`). */
const SELF_IN_CONTAINER = '/proc/self/fd/3';

/** A filter file: 8 bytes of seccomp(2) flags, then at most BPF_MAXINSNS 8-byte instructions. */
const MAX_FILTER_BYTES = 8 + 4096 * 8;

/** writeFileAtomic's temporary sibling of a file. */
const ATOMIC_TMP = /\.tmp-[0-9a-f]+$/;
/** A temporary program file older than this is a dead writer's. */
const STALE_TMP_MS = 60_000;

/** How long a capture container may take to say it is ready. */
const CAPTURE_TIMEOUT_MS = 20_000;

export interface SeccompPreloadOptions {
  readonly runc: Runc;
  /** ROOT/seccomp: the captured programs. */
  readonly dir: string;
  /** ROOT/tmp: the capture container's bundle (owned, so a dead engine's is cleaned up). */
  readonly tmpDir: string;
  /** tsbuild-run-init. */
  readonly program: string;
}

/** tsbuild-run-init when it was built and the preload is not turned off. */
export function runInitProgram(): string | undefined {
  if (process.env['TSBUILD_SECCOMP_PRELOAD'] === '0') return undefined;
  return nativeProgram(RUN_INIT);
}

/** The spec runc gets instead: no `linux.seccomp`, the process is tsbuild-run-init on fd 3. */
export function withPreloadedSeccomp(spec: RuntimeSpec): RuntimeSpec {
  const { seccomp: _dropped, ...linux } = spec.linux;
  return { ...spec, process: { ...spec.process, args: [SELF_IN_CONTAINER, '--exec', '--', ...spec.process.args] }, linux };
}

function validFilter(bytes: Buffer): boolean {
  return bytes.length >= 16 && bytes.length <= MAX_FILTER_BYTES && (bytes.length - 8) % 8 === 0;
}

/** What the program depends on besides the policy: a file's identity (path, inode, size, mtime). */
function fileIdentity(path: string): string {
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    return `${real}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return `${path}:missing`;
  }
}

/** The dynamic libseccomp runc may use (a static runc has it inside: its own identity covers it). */
const LIBSECCOMP = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib'].map((d) => join(d, 'libseccomp.so.2'));

/**
 * Captured programs by file key, for every data root of this process: a process with several data
 * roots (the tests) captures each program once, and a failed capture is not retried (runc compiles
 * the filter instead, as without the preload).
 */
const captures = new Map<string, Promise<Buffer>>();

export class SeccompPreload {
  /** Per policy (its JSON): the program's file, or undefined when there is none to be had. */
  private readonly filters = new Map<string, Promise<string | undefined>>();
  private identity: string | undefined;

  constructor(private readonly o: SeccompPreloadOptions) {}

  /**
   * What runc passes to tsbuild-run-init for a step with `policy` (the start error goes to
   * `report`), or undefined when the program cannot be had: runc then compiles the filter. The
   * program comes from ROOT/seccomp, or is captured now (the first RUN with a policy in a data root
   * waits for the capture, ~40 ms, once).
   */
  async fdsFor(policy: SeccompPolicy, report: string): Promise<RuncFds | undefined> {
    const policyJson = JSON.stringify(policy);
    let file = this.filters.get(policyJson);
    if (file === undefined) {
      file = this.load(policyJson, policy).catch(() => undefined);
      this.filters.set(policyJson, file);
    }
    const filter = await file;
    return filter === undefined ? undefined : { self: this.o.program, filter, report };
  }

  private fileKey(policyJson: string): string {
    this.identity ??= [fileIdentity(this.o.runc.binary), ...LIBSECCOMP.map(fileIdentity).filter((s) => !s.endsWith(':missing')), fileIdentity(this.o.program), release(), process.arch].join('\n');
    return sha256Hex(Buffer.from(`${policyJson}\n${this.identity}`));
  }

  private async load(policyJson: string, policy: SeccompPolicy): Promise<string> {
    const key = this.fileKey(policyJson);
    // The content's digest is in the name: a torn or damaged file is never used, only replaced.
    mkdirSync(this.o.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.o.dir)) {
      // A temporary file of a process that died between its write and its rename (a live writer's
      // is at most a moment old).
      if (ATOMIC_TMP.test(name)) {
        const tmp = join(this.o.dir, name);
        if (Date.now() - (statSync(tmp, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > STALE_TMP_MS) rmSync(tmp, { force: true });
        continue;
      }
      const m = /^([0-9a-f]{64})\.([0-9a-f]{64})\.bpf$/.exec(name);
      if (m === null || m[1] !== key) continue;
      const file = join(this.o.dir, name);
      const bytes = readFileSync(file);
      if (validFilter(bytes) && sha256Hex(bytes) === m[2]) return file;
      rmSync(file, { force: true });
    }
    let capture = captures.get(key);
    if (capture === undefined) {
      capture = captureFilter({ ...this.o, policy });
      captures.set(key, capture);
    }
    const bytes = await capture;
    const file = join(this.o.dir, `${key}.${sha256Hex(bytes)}.bpf`);
    await writeFileAtomic(file, bytes);
    return file;
  }
}

/** The ptrace read, on the host: `tsbuild-run-init --dump-filter PID` (the 8-byte flags, then the program). */
export function dumpFilter(program: string, pid: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(program, ['--dump-filter', String(pid)], { encoding: 'buffer', timeout: 10_000, maxBuffer: MAX_FILTER_BYTES + 1 }, (err, stdout, stderr) => {
      if (err) reject(new TsbuildError('SECCOMP_CAPTURE_FAILED', `reading the seccomp filter of process ${pid} failed: ${stderr.toString().trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

/**
 * Runs the capture container (an empty root, no network namespace of its own, `policy` as its
 * seccomp) until its process is up, reads its filter, and removes everything again.
 */
async function captureFilter(o: SeccompPreloadOptions & { readonly policy: SeccompPolicy }): Promise<Buffer> {
  mkdirSync(o.tmpDir, { recursive: true, mode: 0o700 });
  const id = `tsbuild-${randomBytes(8).toString('hex')}`;
  const dir = mkdtempSync(join(o.tmpDir, 'exec-'));
  const cgroups = cgroupDirs(cgroupPathFor(id));
  try {
    writeOwner(dir, id);
    const rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs);
    const spec = buildRuntimeSpec({
      rootfs,
      args: [SELF_IN_CONTAINER, '--hold'],
      env: [],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [], home: '/', name: undefined },
      hostname: 'tsbuild-seccomp',
      network: 'host',
      security: 'sandbox',
      extraMounts: [],
      cgroupsPath: cgroupPathFor(id),
      limits: undefined,
      limitSwap: false,
      openFiles: 1024,
      allCapabilities: [],
    });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...spec, linux: { ...spec.linux, seccomp: o.policy } }), { mode: 0o600 });
    // The capture runs as a RUN's process does (runContainer: output lines, the kill on abort, the
    // start error from runc's log); it is aborted once the filter is read, or after the timeout.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), CAPTURE_TIMEOUT_MS);
    let dump: Promise<Buffer> | undefined;
    try {
      const exit = await runContainer({
        runc: o.runc,
        id,
        bundle: dir,
        logFile: join(dir, 'runc.log'),
        cgroupDirs: cgroups,
        fds: { self: o.program, filter: '/dev/null', report: '/dev/null' },
        signal: stop.signal,
        killTimeoutMs: 10_000,
        onLine: (l) => {
          if (dump !== undefined || l.stream !== 1 || l.text !== 'ready') return;
          dump = o.runc.statePid(id).then((pid) => dumpFilter(o.program, pid)).finally(() => stop.abort());
          // Awaited below; if the run itself fails first, this rejection is not the one to report.
          dump.catch(() => undefined);
        },
      });
      if (dump === undefined) {
        const why = exit.cancelled ? 'did not start in time' : `ended before it was ready${exit.startError !== undefined ? `: ${exit.startError}` : ` (exit code ${exit.exitCode})`}`;
        throw new TsbuildError('SECCOMP_CAPTURE_FAILED', `the seccomp capture container ${why}`);
      }
      const bytes = await dump;
      if (!validFilter(bytes)) throw new TsbuildError('SECCOMP_CAPTURE_FAILED', `the captured seccomp filter is malformed (${bytes.length} bytes)`);
      return bytes;
    } finally {
      clearTimeout(timer);
      await o.runc.forceDelete(id).catch(() => undefined);
    }
  } catch (e) {
    throw e instanceof TsbuildError ? e : new TsbuildError('SECCOMP_CAPTURE_FAILED', `capturing the seccomp filter failed: ${errorMessage(e)}`, { cause: e });
  } finally {
    await removeCgroupDirs(cgroups).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
