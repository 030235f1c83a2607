/**
 * Where the launcher (tsbuild-launcher.ts) leaves its bundle loader for the CLI bundle: the CLI
 * bundle loads the engine bundle through it, so the engine also gets the code cache. A global,
 * because the two bundles share no module: the CLI bundle reads it in the small module
 * scripts/bundle.mjs puts in place of the engine's entry, and falls back to `require` without it
 * (`--debug`, or the bundle loaded some other way).
 */
export const BUNDLE_LOADER: unique symbol = Symbol.for('tsbuild.bundle-loader');

/**
 * Where the launcher leaves a function the CLI calls once it knows whether the command ran through
 * a daemon (`true`) or in this process: it names the code cache files written at exit
 * (code-cache.ts). Absent when the bundle was loaded some other way.
 */
export const RAN_VIA_DAEMON: unique symbol = Symbol.for('tsbuild.ran-via-daemon');
