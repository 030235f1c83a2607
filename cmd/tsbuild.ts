#!/usr/bin/env node
/** `tsbuild`: the command-line front door. Argument parsing and wiring only. */
import { runCli } from './cli/main.js';
import { commands } from './commands/index.js';
import { VERSION } from '../src/version.js';

const code = await runCli(process.argv.slice(2), {
  prog: 'tsbuild',
  summary: 'tsbuild builds container images from Dockerfiles, with a content-addressed layer cache.',
  version: VERSION,
  commands,
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() },
});
process.exitCode = code;
