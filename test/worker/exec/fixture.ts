/** A fresh data root with a busybox rootfs per test, and checks that a run left nothing behind. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import type { RuncExecutorOptions } from '../../../src/worker/exec/runc-executor.js';
import type { ExecLogLine, ExecRequest } from '../../../src/worker/exec/types.js';
import { makeBusyboxRootfs } from './busybox-rootfs.js';
import type { BusyboxRootfsOptions } from './busybox-rootfs.js';
import { haveBinary, isRoot } from '../../helpers/skip.js';

export const canRunContainers = isRoot && haveBinary('runc') && existsSync('/bin/busybox');
export const whyNot = 'needs root, runc and busybox-static (bash scripts/install-deps.sh)';

export interface ExecFixture {
  readonly dir: string;
  readonly root: string;
  readonly rootfs: string;
  readonly executor: RuncExecutor;
  /** Runs argv with defaults (network none, env empty), collecting output lines. */
  run(args: readonly string[], req?: Partial<ExecRequest>): Promise<RunOutput>;
  /** Throws unless no container, mount, bundle or temp file of the data root is left. */
  assertClean(): Promise<void>;
  dispose(): Promise<void>;
}

export interface RunOutput {
  readonly lines: ExecLogLine[];
  readonly stdout: string;
  readonly stderr: string;
}

export function mountsUnder(dir: string): string[] {
  return execFileSync('cat', ['/proc/mounts'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

export function runcList(stateDir: string): unknown[] {
  if (!existsSync(stateDir)) return [];
  const out = execFileSync('runc', ['--root', stateDir, 'list', '--format', 'json'], { encoding: 'utf8' }).trim();
  return (JSON.parse(out === '' ? 'null' : out) as unknown[] | null) ?? [];
}

export async function makeExecFixture(opts: { rootfs?: BusyboxRootfsOptions; executor?: Partial<RuncExecutorOptions> } = {}): Promise<ExecFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-exec-'));
  const root = join(dir, 'root');
  const rootfs = join(dir, 'rootfs');
  await makeBusyboxRootfs(rootfs, opts.rootfs);
  const executor = new RuncExecutor({ root, ...opts.executor });
  const fixture: ExecFixture = {
    dir,
    root,
    rootfs,
    executor,
    async run(args, req = {}) {
      const lines: ExecLogLine[] = [];
      await executor.run({
        rootfs,
        args,
        env: [],
        network: 'none',
        signal: AbortSignal.timeout(60_000),
        ...req,
        onLog: (l) => {
          lines.push(l);
          req.onLog?.(l);
        },
      });
      const text = (s: 1 | 2): string => lines.filter((l) => l.stream === s).map((l) => `${l.text}${l.partial ? '' : '\n'}`).join('');
      return { lines, stdout: text(1), stderr: text(2) };
    },
    async assertClean() {
      const leaks: string[] = [];
      const containers = runcList(join(root, 'runc'));
      if (containers.length > 0) leaks.push(`runc containers: ${JSON.stringify(containers)}`);
      const mounts = mountsUnder(dir);
      if (mounts.length > 0) leaks.push(`mounts: ${mounts.join(', ')}`);
      const tmp = existsSync(join(root, 'tmp')) ? await readdir(join(root, 'tmp')) : [];
      if (tmp.length > 0) leaks.push(`ROOT/tmp: ${tmp.join(', ')}`);
      if (leaks.length > 0) throw new Error(`left behind: ${leaks.join('; ')}`);
    },
    async dispose() {
      for (const m of mountsUnder(dir).reverse()) execFileSync('umount', ['-l', m]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** The cgroup directories of a container, from the `/proc/self/cgroup` text printed inside it. */
export async function cgroupDirsFromInside(procSelfCgroup: string): Promise<string[]> {
  const { cgroupDirs } = await import('../../../src/worker/exec/cgroups.js');
  const m = /tsbuild-[0-9a-f]+/.exec(procSelfCgroup);
  if (m === null) throw new Error(`no tsbuild cgroup in ${procSelfCgroup}`);
  return cgroupDirs(m[0]);
}

export async function readText(p: string): Promise<string> {
  return readFile(p, 'utf8');
}
