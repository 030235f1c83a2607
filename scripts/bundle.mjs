#!/usr/bin/env node
/**
 * Bundles the compiled entry points (dist/cmd/*.js, from `tsc -p tsconfig.build.json`) into one
 * ES module each under dist/bin/, which is what the `bin` entries, the scripts and the CLI tests
 * run. Resolving, reading and compiling ~360 small modules cost about 0.35 s of every command's
 * start-up on the reference machine (`tsbuild --help` 0.57 s unbundled, 0.25 s bundled).
 *
 * Native add-ons (better-sqlite3, @napi-rs/xattr, zstd-napi) stay external and load from node_modules, as does
 * chevrotain's own single-file bundle (src/frontend/dockerfile/chevrotain.ts imports it by path).
 * @grpc/reflection stays external too: it reads its reflection.proto relative to its own directory
 * (tsbuildd imports it lazily; it loads its own @grpc/grpc-js from node_modules, which is fine: a
 * service definition is plain data that any grpc-js Server accepts).
 * Code splitting: a dynamic `import()` becomes its own chunk (dist/bin/chunks/), so the CLI talking
 * to a daemon never loads the engine (SQLite, parser, solver) and the embedded CLI never loads gRPC
 * (cmd/commands/client.ts picks one with `import()`).
 * Chart.js, which the HTML report pages embed, goes into the bundle as a string (the
 * TSBUILD_CHART_JS define, read by src/report/html/chart-lib.ts), so the installed CLI renders a page
 * without reading node_modules; the page renderer is imported lazily, so only `--format html` loads it.
 * Bundled CommonJS dependencies call `require` for Node built-ins, so the banner provides one.
 * protobufjs' `require("long")` resolves to `null`: src/llb/pb-runtime.ts turns Long off anyway
 * (int64 decodes to numbers), and long.js compiles a WebAssembly module when it loads, about 20 ms
 * of every daemon-talking command's start-up (issue 10).
 * Each bin is a two-line launcher (dist/bin/NAME.mjs) that turns on source maps when `--debug` is
 * given, so stacks then name src/ files and lines, and imports the bundle (dist/bin/NAME.bundle.mjs).
 * Node reads a module's source map only if source maps are on when the module loads, hence the
 * launcher.
 */
import { build } from 'esbuild';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entries = ['tsbuild', 'tsbuildd'];

// Chunk names carry content hashes: drop the previous build's so none goes stale.
await rm(join(root, 'dist', 'bin', 'chunks'), { recursive: true, force: true });

// chart.js's exports map names only its entry points: find its dist/ folder from the CommonJS one.
const chartJs = await readFile(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js'), 'utf8');

await build({
  entryPoints: Object.fromEntries(entries.map((e) => [e, join(root, 'dist', 'cmd', `${e}.js`)])),
  outdir: join(root, 'dist', 'bin'),
  outExtension: { '.js': '.bundle.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node20',
  external: ['better-sqlite3', '@napi-rs/xattr', '@grpc/reflection', 'zstd-napi'],
  banner: { js: "import { createRequire as __tsbuildCreateRequire } from 'node:module'; const require = __tsbuildCreateRequire(import.meta.url);" },
  define: { TSBUILD_CHART_JS: JSON.stringify(chartJs) },
  sourcemap: 'linked',
  plugins: [{
    name: 'protobufjs-without-long',
    setup(b) {
      b.onResolve({ filter: /^long$/ }, (args) => (/node_modules\/protobufjs\/src\/util\/minimal\.js$/.test(args.importer) ? { path: 'long', namespace: 'no-long' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'no-long' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
    },
  }],
  logLevel: 'warning',
});

for (const e of entries) {
  const launcher = join(root, 'dist', 'bin', `${e}.mjs`);
  await writeFile(
    launcher,
    `#!/usr/bin/env node\nif (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);\nawait import('./${e}.bundle.mjs');\n`,
  );
  await chmod(launcher, 0o755);
}
