/**
 * The run shim: makes a RUN's container die with the tsbuild process that started it.
 *
 * Why it is needed: `runc run` (foreground) does not take its container down when it is killed —
 * the container's init is re-parented and keeps running — and nothing kills runc when the engine
 * dies by SIGKILL: Node cannot set PR_SET_PDEATHSIG, and a parent-death signal on runc would only
 * kill runc, not the container (the OCI spec has no parent-death signal for the container's init).
 * So a SIGKILLed build left its RUN running until the next tsbuild start cleaned it up.
 *
 * Design: `runc run` is started through `/bin/sh -c SHIM_SCRIPT`, spawned detached (its own
 * session and process group, so a SIGKILL of the build's process group does not take the shim out
 * before it acts). The shell forks one watcher and then execs runc, so runc keeps the pid the engine
 * knows, its stdio stays the engine's pipes, and there is no extra resident process besides the
 * watcher. The watcher holds the read end of a socket pair (the child's fd 3, "the lifeline") whose
 * other end only the engine holds (libuv opens it close-on-exec; runc gets fd 3 closed):
 *   - runc run exited under the engine's control: on the child's 'exit' the engine writes "done\n"
 *     and the watcher exits, touching nothing (the executor's own cleanup removes the container).
 *     Not stdin: Node destroys a child's stdin when the child exits, before anything can be said.
 *   - EOF without "done": the engine is gone. The watcher sends `runc kill ID KILL` — the spec always
 *     has a pid namespace, so the death of the init kills every process of the container — and
 *     repeats it while runc run (its parent: exec kept the pid) is alive, because runc may still be
 *     creating the container when the engine dies. Then `runc delete --force ID` (runc run itself
 *     may have been killed) and rmdir of the run's cgroup directories; a cgroup that is still busy
 *     has its processes SIGKILLed and the rmdir retried (up to 5 s). That is the `runc init` of a
 *     runc killed while it created the container: runc may have no state of it yet, so neither
 *     `kill` nor `delete` reaches it, and it can wait on the exec fifo for ever. Mounts and the bundle stay:
 *     the next engine start removes them (stale-runs.ts), as it did before.
 * Liveness of runc is read from the watcher's own parent pid (/proc/self/stat), not `kill -0`,
 * which would count an unreaped zombie as alive. The watcher's stdio is /dev/null, so it never
 * holds the run's output pipes nor, through them, anything of the CLI's own stdout/stderr.
 * Cost per RUN: one /bin/sh exec and one fork, about one extra tiny process (docs/executor.md). The
 * shell itself is started by the native module's spawn when it is there (no fork of the engine:
 * src/util/native-spawn.ts), else by child_process.
 *
 * Alternatives not taken: `setpriv --pdeathsig` on runc (kills runc only; see above); a second,
 * separately spawned watcher given runc's pid (a SIGKILL between the two spawns leaks the run, and
 * the pid could be reused); one watcher per engine (cheaper per RUN, but it must learn every run's
 * id and runc pid over the pipe, leaving a window in which a kill leaks the run); a compiled
 * helper (a binary to build and ship for two syscalls).
 */
import { Readable } from 'node:stream';
import { spawnChild } from '../../util/native-spawn.js';
import type { SpawnedChild } from '../../util/native-spawn.js';

/**
 * Positional parameters: $1 runc, $2 runc's --root, $3 container id, $4-$6 the files runc passes on
 * as fds 3-5 (empty: none; RuncFds below), then the run's cgroup directories, then `--` and runc's
 * argv. fd 3 is the lifeline from the engine; runc gets it closed (or replaced by $4).
 */
const SHIM_SCRIPT = [
  '(',
  '  exec <&3 3<&- >/dev/null 2>&1',
  '  IFS= read -r l && exit 0',
  '  i=0',
  '  while :; do',
  '    "$1" --root "$2" kill "$3" KILL',
  '    read -r s </proc/self/stat; s=${s##*) }; s=${s#* }',
  '    [ "${s%% *}" = $$ ] && [ $i -lt 100 ] || break',
  '    i=$((i+1)); sleep 0.1',
  '  done',
  '  "$1" --root "$2" delete --force "$3"',
  '  shift 6',
  '  for d; do',
  '    [ "$d" = -- ] && break',
  '    j=0',
  '    while [ -d "$d" ] && ! rmdir "$d" && [ $j -lt 50 ]; do',
  '      while read -r p; do kill -9 "$p"; done <"$d/cgroup.procs"',
  '      j=$((j+1)); sleep 0.1',
  '    done',
  '  done',
  ') &',
  'f=$4 b=$5 r=$6',
  'while [ "$1" != -- ]; do shift; done; shift',
  '[ -z "$f" ] || exec "$@" 3<"$f" 4<"$b" 5>"$r"',
  'exec "$@" 3<&-',
].join('\n');

/** The shell that runs the shim; POSIX sh is all it needs (Debian: dash). */
const SHIM_SHELL = '/bin/sh';

/**
 * What tsbuild-run-init (seccomp-preload.ts) gets: fd 3 the program itself, fd 4 the filter
 * (read-only), fd 5 the file it reports a start failure to (created, truncated). The run shim opens
 * them just before it execs runc.
 */
export interface RuncFds {
  readonly self: string;
  readonly filter: string;
  readonly report: string;
}

export interface ShimOptions {
  /** The runc binary the watcher calls for `kill` and `delete`. */
  readonly runc: string;
  /** runc's `--root` state directory. */
  readonly stateDir: string;
  readonly id: string;
  /** The container's cgroup directories, removed if the engine dies (absolute paths). */
  readonly cgroupDirs: readonly string[];
  /** The full `runc … run …` argv the shim execs (stdin /dev/null, stdout/stderr piped). */
  readonly argv: readonly string[];
  /** Opened as runc's fds 3-5. */
  readonly fds?: RuncFds;
}

/** The shim's child as the executor sees it: runc's pid, its output pipes, its end. */
export interface ShimChild extends SpawnedChild {
  readonly stdout: Readable;
  readonly stderr: Readable;
}

/**
 * Starts `argv` (a `runc run`) under the shim. The returned child is runc itself (same pid); the
 * watcher is told "done" on the child's 'exit' and is gone a moment later. `native: false` starts
 * the shell through child_process even when the native module is there (tests).
 */
export function spawnUnderShim(o: ShimOptions & { readonly native?: boolean }): ShimChild {
  const fds = o.fds !== undefined ? [o.fds.self, o.fds.filter, o.fds.report] : ['', '', ''];
  const args = ['-c', SHIM_SCRIPT, 'tsbuild-run-shim', o.runc, o.stateDir, o.id, ...fds, ...o.cgroupDirs, '--', ...o.argv];
  const child = spawnChild(SHIM_SHELL, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'socket'],
    // Own session: a kill of the engine's process group must leave the watcher alive to act.
    detached: true,
    ...(o.native !== undefined ? { native: o.native } : {}),
  });
  const [, stdout, stderr, lifeline] = child.stdio;
  if (stdout == null || stderr == null || lifeline == null || !('write' in lifeline)) {
    // Only when the spawn failed ('error' follows): streams that end at once.
    return Object.assign(child, { stdout: endedStream(), stderr: endedStream() });
  }
  // The watcher may be gone (killed by someone): then there is no one to tell.
  lifeline.on('error', () => undefined);
  // Once "done" is in the kernel's buffer, our end can go: the watcher still reads it, and the
  // child's 'close' (which waits for every pipe) need not wait for the watcher to be scheduled.
  child.once('exit', () => {
    if (!lifeline.destroyed) lifeline.end('done\n', () => lifeline.destroy());
  });
  return Object.assign(child, { stdout, stderr });
}

function endedStream(): Readable {
  return Readable.from([]);
}
