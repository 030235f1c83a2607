/**
 * The emulator report: which platforms RUN steps can run for on this machine, and why not for the
 * others (plain data: persisted in the data root, shown by `tsbuild info`, quoted by errors).
 */

/**
 * How a platform runs here: `native` (the CPU runs it), `emulated` (a binfmt_misc handler ran the
 * probe), or why it cannot: `no-handler`, `disabled` (a matching handler is switched off),
 * `no-fix-binary` (registered without F: invisible inside containers), `failed` (the probe failed).
 */
export type PlatformStatus = 'native' | 'emulated' | 'no-handler' | 'disabled' | 'no-fix-binary' | 'failed';

export interface PlatformSupport {
  /** `linux/arm64`, `linux/arm/v7`… */
  readonly platform: string;
  readonly status: PlatformStatus;
  /** Architecture as binfmt/uname name it (`aarch64`). */
  readonly machine: string;
  /** The binfmt_misc handler that matched (`qemu-aarch64`) and its interpreter. */
  readonly handler?: string;
  readonly interpreter?: string;
  readonly detail?: string;
}

export interface EmulatorReport {
  /** binfmt_misc's digest when probed (readBinfmt). */
  readonly key: string;
  readonly binfmtDir: string;
  readonly binfmtAvailable: boolean;
  readonly probedAt: number;
  readonly platforms: readonly PlatformSupport[];
}
