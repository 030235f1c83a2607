/** The tsbuild version, printed by `tsbuild --version`. */
export const VERSION = '0.1.0';
