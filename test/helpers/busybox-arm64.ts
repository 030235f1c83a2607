/**
 * The arm64 (and armhf, linux/arm/v7) busybox bases for the multi-platform tests: the same root filesystem as busybox.ts
 * (scripts/make-busybox-rootfs.sh), with Debian's arm64 busybox-static binary, which
 * scripts/install-deps.sh downloads and unpacks (never committed, never installed over the host's).
 * Running it needs qemu's aarch64 emulator registered with binfmt_misc (scripts/setup-binfmt.sh).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ARM64_BINFMT, ARM_BINFMT, arm64BusyboxBinary, armhfBusyboxBinary } from './requirements.mjs';
import { busyboxScript } from './busybox.js';

export { ARM64_BINFMT, ARM_BINFMT, arm64BusyboxBinary, armhfBusyboxBinary };
export const haveArm64Busybox = existsSync(arm64BusyboxBinary);
/** True when the kernel runs aarch64 binaries through qemu (so arm64 RUN steps can run). */
export const haveArm64Emulation = existsSync(ARM64_BINFMT);
export const arm64Why = `needs ${arm64BusyboxBinary} and ${ARM64_BINFMT} (bash scripts/install-deps.sh)`;

/** The same for linux/arm/v7: Debian's armhf busybox and qemu's arm emulator. */
export const haveArmhfBusybox = existsSync(armhfBusyboxBinary);
export const haveArmEmulation = existsSync(ARM_BINFMT);
export const armhfWhy = `needs ${armhfBusyboxBinary} and ${ARM_BINFMT} (bash scripts/install-deps.sh)`;

function runScript(args: readonly string[], busybox = arm64BusyboxBinary): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [busyboxScript, ...args], { encoding: 'utf8', env: { ...process.env, BUSYBOX: busybox } }, (err, _out, stderr) => {
      if (err) reject(new Error(`BUSYBOX=${busybox} make-busybox-rootfs.sh ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Writes the arm64 busybox root filesystem into `dir` (created; must be empty or absent). */
export function makeArm64BusyboxRootfs(dir: string): Promise<void> {
  return runScript(['--dir', dir]);
}

/** Writes the arm64 busybox root filesystem as a reproducible tar (same bytes every time). */
export function makeArm64BusyboxTar(file: string): Promise<void> {
  return runScript([file]);
}

/** Writes the armhf (linux/arm/v7) busybox root filesystem as a reproducible tar. */
export function makeArmhfBusyboxTar(file: string): Promise<void> {
  return runScript([file], armhfBusyboxBinary);
}
