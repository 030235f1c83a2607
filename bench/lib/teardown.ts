/**
 * Undoing what a benchmark's tools may leave behind after a failure or a Ctrl-C: mounts under a
 * directory (overlay snapshots of tsbuild, Buildah and dockerd) and runc containers whose bundle
 * lies under a directory (a RUN step that was interrupted). Removal never reaches through a mount.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { TsbuildError } from '../../src/util/errors.js';

/** Mount points at or below dir, deepest first (mountinfo escapes spaces and friends in octal). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return [...new Set(points.filter((p) => p === dir || p.startsWith(`${dir}/`)))].sort((a, b) => b.length - a.length);
}

function exec(cmd: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => resolve({ ok: err === null, stdout }));
  });
}

/**
 * Unmounts everything at or below dir (deepest first; lazily when a plain unmount fails), then
 * removes dir. Refuses to remove a directory that still has mounts. A missing dir is fine.
 */
export async function unmountAndRemove(dir: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) break;
    for (const p of points) await exec('umount', round === 0 ? [p] : ['-l', p]);
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new TsbuildError('BENCH_CLEANUP_MOUNTS', `cleanup: still mounted under ${dir}: ${left.join(', ')}`);
  await rm(dir, { recursive: true, force: true });
}

interface RuncState {
  readonly id: string;
  readonly bundle: string;
}

/**
 * Kills and deletes runc containers, in the given state roots, whose bundle lies under dir.
 * Buildah keeps its containers in runc's default root (/run/runc) with the bundle in $TMPDIR;
 * tsbuild in DATA_ROOT/runc.
 */
export async function removeRuncContainersUnder(dir: string, stateRoots: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const root of stateRoots) {
    if (!existsSync(root)) continue;
    const list = await exec('runc', ['--root', root, 'list', '--format', 'json']);
    if (!list.ok) continue;
    const states = (JSON.parse(list.stdout.trim() || 'null') as RuncState[] | null) ?? [];
    for (const s of states) {
      if (!(s.bundle === dir || s.bundle.startsWith(`${dir}/`))) continue;
      await exec('runc', ['--root', root, 'kill', '--all', s.id, 'KILL']);
      await exec('runc', ['--root', root, 'delete', '--force', s.id]);
      removed.push(s.id);
    }
  }
  return removed;
}
