#!/usr/bin/env node
/**
 * Bundles the compiled entry points (dist/cmd/*.js, from `tsc -p tsconfig.build.json`) into the
 * files under dist/bin/ that the `bin` entries, the scripts and the CLI tests run. Resolving,
 * reading and compiling ~360 small modules cost about 0.35 s of every command's start-up on the
 * reference machine (`tsbuild --help` 0.57 s unbundled, 0.25 s bundled).
 *
 * tsbuild (issue 10's start-up): three files, and a shim.
 *   tsbuild.cjs         the launcher (cmd/launcher/tsbuild-launcher.ts), the `bin`: answers
 *                       --version, loads the CLI bundle through a V8 code cache;
 *                       (tsbuild.mjs only requires it, for `node dist/bin/tsbuild.mjs`);
 *   tsbuild-cli.cjs     the command line (cmd/tsbuild.ts): commands, progress, the gRPC client;
 *   tsbuild-engine.cjs  the engine (src/engine/index.ts and src/client/embedded.ts), loaded by the
 *                       CLI bundle only when it runs the engine in this process.
 * CommonJS, because Node 20 can give a script a code cache (vm.Script cachedData) but has none for
 * ES modules; one file per side, because the cache is per script, and esbuild's CommonJS output
 * keeps each bundled module's body in a function that runs on first use (`import()` included), so
 * a command initialises only the modules it reaches. The CLI bundle reaches the engine bundle
 * through two small stand-in modules (for src/client/embedded.js and src/engine/index.js) that
 * ask the launcher's loader for it. Error classes cross between the two bundles; src/util/errors.ts
 * makes `instanceof` work across them. The bundles must stay ASCII (the loader reads them as
 * latin1) and must not use `import()` (vm.Script has no module loader on Node 20 without a flag):
 * both are checked here. chevrotain (its single-file ES bundle, which src/frontend/dockerfile/
 * chevrotain.ts loads with a top-level await) is bundled in directly.
 *
 * tsbuildd: an ES module bundle (dist/bin/tsbuildd.bundle.mjs) with its lazily loaded chunks in
 * dist/bin/chunks/, behind a two-line launcher that turns on source maps with --debug.
 *
 * Native add-ons (better-sqlite3, @napi-rs/xattr, zstd-napi) stay external and load from
 * node_modules. @grpc/reflection stays external too: it reads its reflection.proto relative to its
 * own directory (tsbuildd imports it lazily; it loads its own @grpc/grpc-js from node_modules,
 * which is fine: a service definition is plain data that any grpc-js Server accepts).
 * Chart.js, which the HTML report pages embed, is copied beside the CLI bundle (dist/bin/chart.umd.js,
 * named by the TSBUILD_CHART_JS define, read by src/report/html/chart-lib.ts), so the installed CLI
 * renders a page without reading node_modules, and the other commands do not read it at all.
 * protobufjs' `require("long")` resolves to `null`: src/llb/pb-runtime.ts turns Long off anyway
 * (int64 decodes to numbers), and long.js compiles a WebAssembly module when it loads, about 20 ms
 * of every daemon-talking command's start-up (issue 10).
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'dist', 'bin');
const require = createRequire(import.meta.url);
const external = ['better-sqlite3', '@napi-rs/xattr', '@grpc/reflection', 'zstd-napi'];

// Chunk names carry content hashes: drop the previous build's so none goes stale. Also the files of
// the earlier layout (tsbuild.bundle.mjs and its chunks), so nothing can load them by mistake.
await rm(join(bin, 'chunks'), { recursive: true, force: true });
await rm(join(bin, 'tsbuild.bundle.mjs'), { force: true });
await rm(join(bin, 'tsbuild.bundle.mjs.map'), { force: true });

// chart.js's exports map names only its entry points: find its dist/ folder from the CommonJS one.
// A file of its own beside the CLI bundle (213 KB that only the HTML reports read).
const CHART_FILE = 'chart.umd.js';
await mkdir(bin, { recursive: true });
await copyFile(join(dirname(require.resolve('chart.js')), 'chart.umd.js'), join(bin, CHART_FILE));
// chevrotain's single-file ES bundle (see src/frontend/dockerfile/chevrotain.ts).
const chevrotainBundle = join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.mjs');

const noLong = {
  name: 'protobufjs-without-long',
  setup(b) {
    b.onResolve({ filter: /^long$/ }, (args) => (/node_modules\/protobufjs\/src\/util\/minimal\.js$/.test(args.importer) ? { path: 'long', namespace: 'no-long' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-long' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
  },
};

// tsbuildd: ES modules, split at each import().
await build({
  entryPoints: { tsbuildd: join(root, 'dist', 'cmd', 'tsbuildd.js') },
  outdir: bin,
  outExtension: { '.js': '.bundle.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node20',
  external,
  banner: { js: "import { createRequire as __tsbuildCreateRequire } from 'node:module'; const require = __tsbuildCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  plugins: [noLong],
  logLevel: 'warning',
});
const daemonLauncher = join(bin, 'tsbuildd.mjs');
await writeFile(daemonLauncher, "#!/usr/bin/env node\nif (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);\nawait import('./tsbuildd.bundle.mjs');\n");
await chmod(daemonLauncher, 0o755);

// tsbuild: the two CommonJS bundles.
const engineEntry = join(root, 'dist', 'src', 'engine', 'index.js');
const embeddedEntry = join(root, 'dist', 'src', 'client', 'embedded.js');
const loaderKey = "Symbol.for('tsbuild.bundle-loader')"; // cmd/launcher/bundle-loader-key.ts
const cjs = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // vm.Script on Node 20 cannot run import(): esbuild turns each into a lazy require.
  supported: { 'dynamic-import': false },
  external,
  define: { 'import.meta.url': '__tsbuildUrl', TSBUILD_CHART_JS: JSON.stringify(CHART_FILE) },
  banner: { js: 'var __tsbuildUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Minified (comments dropped: the bundles must be ASCII; locals renamed): each command reads,
  // and turns into a string, the whole file before V8 takes the code cache (~8 ms per MB on the
  // reference machine, issue 10). --debug maps stack traces back through the source maps.
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};
const chevrotainInline = {
  name: 'chevrotain-inline',
  setup(b) {
    b.onLoad({ filter: /dist\/src\/frontend\/dockerfile\/chevrotain\.js$/ }, () => ({
      contents: `export { CstParser, createToken, Lexer, tokenMatcher, generateCstDts } from ${JSON.stringify(chevrotainBundle)};`,
      loader: 'js',
    }));
  },
};
const engineStandIns = {
  name: 'engine-bundle',
  setup(b) {
    const standIn = (part) => `const load = globalThis[${loaderKey}]; const file = require("node:path").join(__dirname, "tsbuild-engine.cjs"); module.exports = (load ? load(file) : require(file)).${part};`;
    b.onResolve({ filter: /\/(client\/embedded|engine\/index)\.js$/ }, (args) => {
      const path = join(args.resolveDir, args.path);
      if (path === embeddedEntry) return { path: 'embedded', namespace: 'engine-bundle' };
      if (path === engineEntry) return { path: 'engine', namespace: 'engine-bundle' };
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'engine-bundle' }, (args) => ({ contents: standIn(args.path), loader: 'js' }));
  },
};
await build({
  ...cjs,
  stdin: {
    contents: `export * as embedded from ${JSON.stringify(embeddedEntry)};\nexport * as engine from ${JSON.stringify(engineEntry)};\n`,
    resolveDir: root,
    sourcefile: 'tsbuild-engine-entry.js',
    loader: 'js',
  },
  outfile: join(bin, 'tsbuild-engine.cjs'),
  plugins: [noLong, chevrotainInline],
});
await build({
  ...cjs,
  entryPoints: [join(root, 'dist', 'cmd', 'tsbuild.js')],
  outfile: join(bin, 'tsbuild-cli.cjs'),
  plugins: [noLong, chevrotainInline, engineStandIns],
});

// Each CommonJS bundle is stored inside the function wrapper the launcher's loader compiles
// (code-cache.ts): a script whose value is that function. Wrapping at load time concatenated the
// 1 MB source with the wrapper, and V8 flattened the result into a second copy in the young
// generation, which cost every command a scavenge (~3-5 ms, issue 10). `require` of the file
// (--debug, a stand-in without the loader) still runs it: the outer arrow calls the function with
// the module when there is one. The wrapper ends before the sourceMappingURL comment, which stays last.
const WRAP_HEAD = "((main) => typeof module === 'undefined' ? main : main.call(module.exports, module.exports, require, module, __filename, __dirname))(function (exports, require, module, __filename, __dirname) {";
for (const f of ['tsbuild-cli.cjs', 'tsbuild-engine.cjs']) {
  const text = await readFile(join(bin, f), 'latin1');
  const mapAt = text.lastIndexOf('\n//# sourceMappingURL=');
  if (mapAt < 0) throw new Error(`${f}: no sourceMappingURL comment`);
  await writeFile(join(bin, f), `${WRAP_HEAD}${text.slice(0, mapAt)}\n})${text.slice(mapAt)}`, 'latin1');
}

const hashes = {};
for (const f of ['tsbuild-cli.cjs', 'tsbuild-engine.cjs']) {
  const text = await readFile(join(bin, f));
  const bad = text.findIndex((c) => c > 0x7f);
  if (bad >= 0) throw new Error(`${f}: non-ASCII byte at offset ${bad}; the launcher reads bundles as latin1`);
  const s = text.toString('latin1');
  const imp = /(?<![\w$.])import\s*\(/.exec(s);
  if (imp) throw new Error(`${f}: import() at offset ${imp.index}: vm.Script cannot run it on Node 20`);
  hashes[f] = createHash('sha256').update(text).digest('hex').slice(0, 16);
}
if ((await readFile(join(bin, 'tsbuild-cli.cjs'), 'latin1')).includes('better-sqlite3')) {
  throw new Error('tsbuild-cli.cjs names better-sqlite3: the engine leaked into the CLI bundle');
}

// The launcher: CommonJS too, since an ES module entry sets up Node's ES module loader (and a
// facade module for each built-in it imports), ~10 ms that `--version` would pay for nothing.
// Its first lines are a /bin/sh script that node reads as a string and a comment: it moves
// NODE_EXTRA_CA_CERTS aside before it execs node, which would otherwise parse that CA file and build
// its whole root store at start-up (~36 ms with Debian's bundle) for commands that open no TLS
// connection; src/util/extra-ca.ts puts it back and hands it to our TLS clients. It passes node no
// flags: a young generation started at full size (--min-semi-space-size=16) spares a no-op build
// its two scavenges but costs more CPU than they do (measured: node -e 0 alone +13 ms).
const LAUNCHER_SH = [
  '#!/bin/sh',
  '":" //; export TSBUILD_DEFERRED_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS-}"; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"',
].join('\n');
await build({
  entryPoints: [join(root, 'dist', 'cmd', 'launcher', 'tsbuild-launcher.js')],
  outfile: join(bin, 'tsbuild.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { TSBUILD_BUNDLE_HASHES: JSON.stringify(hashes), 'import.meta.url': '__tsbuildUrl' },
  banner: { js: `${LAUNCHER_SH}\nvar __tsbuildUrl = require("node:url").pathToFileURL(__filename).href;` },
  logLevel: 'warning',
});
await chmod(join(bin, 'tsbuild.cjs'), 0o755);
// `node dist/bin/tsbuild.mjs`, as the README and older scripts run it: the same launcher.
await writeFile(join(bin, 'tsbuild.mjs'), "#!/usr/bin/env node\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./tsbuild.cjs');\n");
await chmod(join(bin, 'tsbuild.mjs'), 0o755);
