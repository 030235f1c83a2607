/**
 * The runc binary is looked up on PATH once, when the executor is made, so the run shim's
 * `exec runc` does not search PATH (one failed execve per directory) at every RUN.
 */
import { afterEach, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { Runc } from '../../../src/worker/exec/runc.js';

const savedPath = process.env['PATH'];
afterEach(() => {
  process.env['PATH'] = savedPath;
});

test('a bare name becomes the path the shell would exec; a path is kept; a name not found is kept', () => {
  const shell = execFileSync('/bin/sh', ['-c', 'command -v runc || true'], { encoding: 'utf8' }).trim();
  const found = new Runc({ stateDir: '/nonexistent' }).binary;
  if (shell === '') expect(found).toBe('runc');
  else expect(found).toBe(shell);
  expect(new Runc({ stateDir: '/nonexistent', binary: '/opt/x/runc' }).binary).toBe('/opt/x/runc');
  process.env['PATH'] = '/nonexistent-dir';
  expect(new Runc({ stateDir: '/nonexistent' }).binary).toBe('runc');
  // A relative PATH entry would resolve against the working directory: left to the shell.
  process.env['PATH'] = '.';
  expect(new Runc({ stateDir: '/nonexistent', binary: 'sh' }).binary).toBe('sh');
  process.env['PATH'] = '/nonexistent-dir:/bin';
  expect(new Runc({ stateDir: '/nonexistent', binary: 'sh' }).binary).toBe('/bin/sh');
});
