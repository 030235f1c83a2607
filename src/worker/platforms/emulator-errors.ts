/**
 * The errors of a build whose RUN steps target a platform this machine cannot run: each says what is
 * missing — the qemu-user-static package, a binfmt_misc registration, its F flag, binfmt_misc
 * itself — and what the machine can run instead. Raised before any step runs.
 */
import { UserInputError } from '../../util/errors.js';
import type { EmulatorReport, PlatformSupport } from './types.js';

export const EmulatorErrorCodes = {
  /** No emulator for the platform (none registered, disabled, unusable in containers, or failing). */
  noEmulator: 'PLATFORM_NO_EMULATOR',
  /** tsbuild has no way to tell whether the platform runs here. */
  unknown: 'PLATFORM_UNSUPPORTED',
} as const;

const INSTALL = 'install qemu-user-static (apt-get install qemu-user-static), which registers its emulators with binfmt_misc with the F flag';

function why(s: PlatformSupport, r: EmulatorReport): string {
  switch (s.status) {
    case 'no-handler':
      return r.binfmtAvailable
        ? `no binfmt_misc handler for ${s.machine} binaries is registered in ${r.binfmtDir}: ${INSTALL}, or register one (scripts/setup-binfmt.sh)`
        : `binfmt_misc is not mounted at ${r.binfmtDir} (mount -t binfmt_misc binfmt_misc ${r.binfmtDir}), and ${s.machine} binaries need an emulator registered there: ${INSTALL}`;
    case 'disabled':
      return `the binfmt_misc handler ${s.handler ?? '?'} for ${s.machine} binaries is disabled (echo 1 > ${r.binfmtDir}/${s.handler ?? '?'})`;
    case 'no-fix-binary':
      return `the binfmt_misc handler ${s.handler ?? '?'} (${s.interpreter ?? '?'}) is registered without the F (fix-binary) flag, so its interpreter cannot be found inside a RUN container: register it again with F (qemu-user-static's handlers have it; scripts/setup-binfmt.sh)`;
    case 'failed':
      return `the binfmt_misc handler ${s.handler ?? '?'} (${s.interpreter ?? '?'}) failed to run a ${s.machine} test program: ${s.detail ?? 'unknown error'}; reinstall qemu-user-static`;
    case 'native':
    case 'emulated':
      return 'it can run';
  }
}

export const EmulatorErrors = {
  cannotRun(s: PlatformSupport, r: EmulatorReport, can: readonly string[]): UserInputError {
    return new UserInputError(EmulatorErrorCodes.noEmulator, `cannot run RUN steps for ${s.platform} on this machine: ${why(s, r)} (this machine runs ${can.join(', ')})`);
  },
  unknown(platform: string, host: string, can: readonly string[]): UserInputError {
    return new UserInputError(EmulatorErrorCodes.unknown, `cannot run RUN steps for ${platform} on this ${host} machine: tsbuild knows no emulator for it (this machine runs ${can.join(', ')})`);
  },
};
