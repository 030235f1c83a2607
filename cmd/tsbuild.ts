/**
 * `tsbuild`: the command-line front door. Argument parsing and wiring only. `--version` is
 * answered before anything else loads (the commands and their Node built-ins cost more start-up
 * than the version line is worth, issue 10); runCli answers it the same way for other callers.
 * No top-level await: scripts/bundle.mjs bundles this entry as CommonJS (dist/bin/tsbuild-cli.cjs),
 * which the launcher (cmd/launcher/tsbuild-launcher.ts) runs through a V8 code cache.
 */
import { VERSION } from '../src/version.js';

const PROG = 'tsbuild';

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write(`${PROG} ${VERSION}\n`);
    return;
  }
  const [{ runCli }, { commands }] = await Promise.all([import('./cli/main.js'), import('./commands/index.js')]);
  const code = await runCli(argv, {
    prog: PROG,
    summary: 'tsbuild builds container images from Dockerfiles, with a content-addressed layer cache.',
    version: VERSION,
    commands,
    io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() },
  });
  process.exitCode = code;
}

void main(process.argv.slice(2));
