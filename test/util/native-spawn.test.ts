/**
 * The native spawn (native/spawn.c, src/util/native-spawn.ts) against real processes, beside
 * child_process through the same wrapper: output and exit code, death by a signal and kill(), the
 * 'exit' then 'close' order, no zombie left once 'exit' is out, no descriptor left open in this
 * process or handed to the child beyond its stdio, the child's signals all at their defaults
 * (Node ignores SIGPIPE; glibc's posix_spawn would leave its signals 32 and 33 ignored), its own
 * session, ENOENT as an 'error', and the run shim using the native path.
 */
import { describe, expect, test } from '@jest/globals';
import { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { nativeSys, nativeSysProblem } from '../../src/util/native-sys.js';
import { spawnChild, type SpawnChildOptions, type SpawnedChild } from '../../src/util/native-spawn.js';
import { spawnUnderShim } from '../../src/worker/exec/run-shim.js';
import { describeIf } from '../helpers/skip.js';

interface Ended {
  readonly events: string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
}

function collect(s: Readable | Socket | null | undefined): () => string {
  let text = '';
  s?.on('data', (b: Buffer) => (text += b.toString()));
  return () => text;
}

/** Runs `sh -c script` and waits for 'close'. */
function sh(script: string, o: SpawnChildOptions, started?: (c: SpawnedChild) => void): Promise<Ended> {
  const child = spawnChild('/bin/sh', ['-c', script], o);
  const out = collect(child.stdio[1]);
  const err = collect(child.stdio[2]);
  const events: string[] = [];
  started?.(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      events.push(`exit ${code} ${signal}`);
      // Reaped before 'exit' is emitted: no zombie (a zombie still has its /proc entry).
      events.push(existsSync(`/proc/${child.pid}`) ? 'still in /proc' : 'reaped');
    });
    child.once('close', (code, signal) => {
      events.push('close');
      resolve({ events, code, signal, out: out(), err: err() });
    });
  });
}

const ownFds = (): number => readdirSync('/proc/self/fd').length;
const pipes = (native: boolean): SpawnChildOptions => ({ stdio: ['ignore', 'pipe', 'pipe'], detached: false, native });

describe.each([true, false])('spawnChild (native: %s)', (native) => {
  if (native && nativeSysProblem() !== undefined) return;

  test('output on both pipes, the exit code, exit then close, no zombie', async () => {
    const r = await sh('echo out; echo err >&2; exit 7', pipes(native));
    expect(r).toEqual({ events: ['exit 7 null', 'reaped', 'close'], code: 7, signal: null, out: 'out\n', err: 'err\n' });
  });

  test('a child killed by a signal reports it; kill() after the reap is refused', async () => {
    let child: SpawnedChild | undefined;
    const r = await sh('echo up; exec sleep 30', pipes(native), (c) => {
      child = c;
      c.stdio[1]?.once('data', () => c.kill('SIGTERM'));
    });
    expect(r.events).toEqual(['exit null SIGTERM', 'reaped', 'close']);
    expect(child?.kill('SIGKILL')).toBe(false);
  });

  test('the child has its own session, fd 0 on /dev/null and every signal at its default', async () => {
    const r = await sh('read -r s </proc/self/stat; set -- $s; echo "$1 $6"; readlink /proc/self/fd/0; grep -E "^Sig(Ign|Blk)" /proc/self/status', { ...pipes(native), detached: true });
    const [pidSid, stdin, blk, ign] = r.out.trim().split('\n');
    const [pid, sid] = (pidSid ?? '').split(' ');
    expect(sid).toBe(pid);
    expect(stdin).toBe('/dev/null');
    expect(ign).toBe('SigIgn:\t0000000000000000');
    expect(blk).toBe('SigBlk:\t0000000000000000');
  });

  test('a socket pair on fd 3: both ways, and no descriptor left open here after 20 children', async () => {
    const before = ownFds();
    for (let i = 0; i < 20; i++) {
      const child = spawnChild('/bin/sh', ['-c', 'read -r l <&3; echo "got $l" >&3'], { stdio: ['ignore', 'pipe', 'pipe', 'socket'], detached: true, native });
      const line = child.stdio[3] as Socket;
      const got = collect(line);
      const closed = new Promise((resolve) => child.once('close', resolve));
      line.write(`hello ${i}\n`);
      await new Promise((resolve) => line.once('end', resolve));
      expect(got()).toBe(`got hello ${i}\n`);
      line.destroy();
      await closed;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(ownFds()).toBe(before);
  });

  test('a program that does not exist is an error event (ENOENT)', async () => {
    const child = spawnChild('/nonexistent/program', [], pipes(native));
    const e = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    expect(e.code).toBe('ENOENT');
  });
});

describeIf(nativeSysProblem() === undefined, nativeSysProblem() ?? '', 'the native spawn', () => {
  test('is in the module, and the run shim uses it', async () => {
    expect(typeof nativeSys()?.spawn).toBe('function');
    const child = spawnUnderShim({ runc: '/bin/echo', stateDir: '/nonexistent', id: 'x', cgroupDirs: [], argv: ['/bin/echo', 'from runc'] });
    expect(child).not.toBeInstanceOf(ChildProcess);
    const out = collect(child.stdout);
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect([code, out()]).toEqual([0, 'from runc\n']);
  });

  test('hands the child exactly the descriptors child_process does', async () => {
    const list = async (native: boolean) => (await sh('ls /proc/self/fd', { stdio: ['ignore', 'pipe', 'pipe', 'socket'], detached: true, native })).out;
    const [n, c] = [await list(true), await list(false)];
    expect(n).toBe(c);
    expect(n.split('\n')).toEqual(expect.arrayContaining(['0', '1', '2', '3']));
  });
});
