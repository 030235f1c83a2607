// @ts-check
/**
 * What the tests need from the machine, in one place: the binaries and folders some test uses,
 * and the strict-mode switch. Strict mode (TSBUILD_STRICT_TESTS=1, exported by .ci/run) turns a
 * missing requirement into a failure instead of a skip, so CI cannot pass by running less (see
 * docs/testing.md). Plain JavaScript because Jest loads the global setup and reporters without its
 * transform; the TypeScript helpers import their paths from here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STRICT_ENV = 'TSBUILD_STRICT_TESTS';
export const strictTests = process.env[STRICT_ENV] === '1';

export const isRoot = process.getuid?.() === 0;

/**
 * True when `bin` is on PATH.
 * @param {string} bin
 * @returns {boolean}
 */
export function haveBinary(bin) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the loopback interface has ::1 (IPv6 may be off in containers). */
export function haveIpv6Loopback() {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));
}

/** Debian's docker CLI, matching the daemon (not whatever sits in /usr/local/bin). */
export const DOCKER_BIN = '/usr/bin/docker';
export const DOCKERD_BIN = '/usr/sbin/dockerd';
export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const busyboxBinary = process.env.BUSYBOX ?? '/bin/busybox';
/** Debian's arm64 busybox-static, unpacked by scripts/install-deps.sh (the arm64 test base). */
export const arm64BusyboxBinary = process.env.BUSYBOX_ARM64 ?? '/opt/tsbuild-test/arm64/bin/busybox';
/** Debian's armhf busybox-static (linux/arm/v7), unpacked by scripts/install-deps.sh. */
export const armhfBusyboxBinary = process.env.BUSYBOX_ARMHF ?? '/opt/tsbuild-test/armhf/bin/busybox';
/** The kernel's registration of qemu's 32-bit arm emulator (scripts/setup-binfmt.sh). */
export const ARM_BINFMT = '/proc/sys/fs/binfmt_misc/qemu-arm';
/** The kernel's registration of qemu's aarch64 emulator (scripts/setup-binfmt.sh). */
export const ARM64_BINFMT = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
/** Debian's chromium, which the HTML report tests drive headless through puppeteer-core. */
export const CHROMIUM_BIN = '/usr/bin/chromium';
/**
 * Conformance data from upstream projects, never copied into the repo: ../shared/anchors beside
 * the checkout unless TSBUILD_ANCHORS_DIR names another place.
 */
export const anchorsDir = resolve(process.env.TSBUILD_ANCHORS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'anchors'));

/** @typedef {{ readonly what: string, readonly present: () => boolean, readonly hint: string }} Requirement */

/** @param {string} pkg */
const debian = (pkg) => `apt-get install ${pkg} (bash scripts/install-deps.sh does)`;
/** @type {(bin: string, pkg: string) => Requirement} */
const onPath = (bin, pkg) => ({ what: bin, present: () => haveBinary(bin), hint: debian(pkg) });
/** @type {(what: string, path: string, pkg: string) => Requirement} */
const atPath = (what, path, pkg) => ({ what: `${what} (${path})`, present: () => existsSync(path), hint: debian(pkg) });

/**
 * Set by scripts/jest-ci.mjs for the Docker phase's run of files that build for the host only: it
 * unregisters qemu's emulators for that run (Docker 20.10's BuildKit runs every registered one on
 * each build), so their registration is not a requirement there.
 */
export const EMULATORS_OFF_ENV = 'TSBUILD_TEST_EMULATORS_OFF';
const emulatorsOffOnPurpose = process.env[EMULATORS_OFF_ENV] === '1';

/** @type {readonly Requirement[]} */
export const testRequirements = [
  { what: 'root', present: () => isRoot, hint: 'run the tests as root (overlay mounts, runc, dockerd, chown, device nodes)' },
  onPath('runc', 'runc'),
  onPath('mount', 'mount'),
  atPath('docker CLI', DOCKER_BIN, 'docker.io'),
  atPath('dockerd', DOCKERD_BIN, 'docker.io'),
  atPath('docker-registry', REGISTRY_BIN, 'docker-registry'),
  atPath('busybox-static', busyboxBinary, 'busybox-static'),
  { what: `anchors folder (${anchorsDir})`, present: () => existsSync(anchorsDir), hint: 'the shared conformance data beside the checkout (../shared/anchors), or TSBUILD_ANCHORS_DIR' },
  atPath('chromium', CHROMIUM_BIN, 'chromium'),
  { what: `arm64 busybox-static (${arm64BusyboxBinary})`, present: () => existsSync(arm64BusyboxBinary), hint: 'bash scripts/install-deps.sh (downloads busybox-static:arm64 and unpacks it there)' },
  { what: `armhf busybox-static (${armhfBusyboxBinary})`, present: () => existsSync(armhfBusyboxBinary), hint: 'bash scripts/install-deps.sh (downloads busybox-static:armhf and unpacks it there)' },
  ...(emulatorsOffOnPurpose ? [] : [
    { what: `qemu arm emulator registered (${ARM_BINFMT})`, present: () => existsSync(ARM_BINFMT), hint: 'apt-get install qemu-user-static, then bash scripts/setup-binfmt.sh' },
    { what: `qemu aarch64 emulator registered (${ARM64_BINFMT})`, present: () => existsSync(ARM64_BINFMT), hint: 'apt-get install qemu-user-static, then bash scripts/setup-binfmt.sh' },
  ]),
  onPath('openssl', 'openssl'),
  onPath('htpasswd', 'apache2-utils'),
  onPath('podman', 'podman'),
  onPath('git', 'git'),
  onPath('dot', 'graphviz'),
  onPath('bzip2', 'bzip2'),
  onPath('xz', 'xz-utils'),
  onPath('zstd', 'zstd'),
  onPath('getcap', 'libcap2-bin'),
  { what: 'IPv6 loopback (::1)', present: haveIpv6Loopback, hint: 'enable IPv6 on lo (sysctl net.ipv6.conf.lo.disable_ipv6=0)' },
];

/**
 * The requirements that are not met, in list order.
 * @param {readonly Requirement[]} reqs
 * @returns {Requirement[]}
 */
export function missingRequirements(reqs) {
  return reqs.filter((r) => !r.present());
}

/**
 * One line for a missing requirement.
 * @param {Requirement} r
 */
export function missingLine(r) {
  return `MISSING ${r.what}: ${r.hint}`;
}
