/**
 * Where the launcher (tsbuild-launcher.ts) leaves its bundle loader for the CLI bundle: the CLI
 * bundle loads the engine bundle through it, so the engine also gets the code cache. A global,
 * because the two bundles share no module: the CLI bundle reads it in the small module
 * scripts/bundle.mjs puts in place of the engine's entry, and falls back to `require` without it
 * (`--debug`, or the bundle loaded some other way).
 */
export const BUNDLE_LOADER: unique symbol = Symbol.for('tsbuild.bundle-loader');
