/**
 * What each RUN network mode costs: wall time of `true` in runc on a busybox rootfs, one run after
 * another, modes taking turns (host, none, sandbox), and of the sandbox network's own setup and teardown
 * (namespace + slirp4netns up, then down) alone. Wall time on a busy machine varies a lot; the
 * CPU time of the child processes (runc, unshare, slirp4netns, umount) per run varies less.
 *
 *   npm run build && node dist/bench/worker/exec-network.js [--runs 10] [--dir /var/tmp]
 *
 * Needs root, runc, busybox-static and slirp4netns. The modes take turns; the first round is a
 * warm-up and is not counted.
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RuncExecutor } from '../../src/worker/exec/runc-executor.js';
import { startSandboxNetwork } from '../../src/worker/exec/sandbox-network.js';
import type { NetworkMode } from '../../src/worker/exec/types.js';
import { benchMain } from '../lib/bench-main.js';

function arg(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

function summary(ms: readonly number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const median = s[Math.floor(s.length / 2)] ?? 0;
  return `mean ${mean.toFixed(1)} ms, median ${median.toFixed(1)} ms, min ${(s[0] ?? 0).toFixed(1)}, max ${(s[s.length - 1] ?? 0).toFixed(1)}`;
}

/** CPU time (ms) of this process's reaped children: less sensitive to the machine's load than wall time. */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17, in clock ticks (USER_HZ, 100 on Linux).
  return (Number(f[16 - 3]) + Number(f[17 - 3])) * 10;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

await benchMain('exec-network', async (signal) => {
  const runs = Number(arg(process.argv, '--runs') ?? 10);
  const dir = await mkdtemp(join(arg(process.argv, '--dir') ?? '/var/tmp', 'tsbuild-bench-net-'));
  try {
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    for (const a of ['sh', 'true']) await symlink('busybox', join(rootfs, 'bin', a));
    const executor = new RuncExecutor({ root: join(dir, 'root') });
    // Interleaved, so that a change in the machine's load affects every mode alike.
    const modes = ['host', 'none', 'sandbox'] as const satisfies readonly NetworkMode[];
    const ms = new Map<NetworkMode, number[]>(modes.map((m) => [m, []]));
    const cpu = new Map<NetworkMode, number>(modes.map((m) => [m, 0]));
    for (let i = 0; i <= runs; i++) {
      for (const network of modes) {
        const c0 = childCpuMs();
        const t = await timed(() => executor.run({ rootfs, args: ['/bin/true'], env: [], network, signal }));
        if (i === 0) continue;
        ms.get(network)?.push(t);
        cpu.set(network, (cpu.get(network) ?? 0) + childCpuMs() - c0);
      }
    }
    for (const m of modes) {
      process.stdout.write(`RUN true, network ${m.padEnd(7)}: ${summary(ms.get(m) ?? [])}; child CPU ${((cpu.get(m) ?? 0) / runs).toFixed(1)} ms/run\n`);
    }
    const setup: number[] = [];
    const teardown: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const bundle = join(dir, `bundle-${i}`);
      await mkdir(bundle);
      let net: Awaited<ReturnType<typeof startSandboxNetwork>> | undefined;
      const up = await timed(async () => { net = await startSandboxNetwork({ dir: bundle, signal }); });
      const down = await timed(() => (net as NonNullable<typeof net>).release());
      if (i > 0) {
        setup.push(up);
        teardown.push(down);
      }
    }
    process.stdout.write(`sandbox network setup   : ${summary(setup)}\nsandbox network teardown: ${summary(teardown)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
