import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runTsbuild } from '../../helpers/cli.js';
import { cliPath } from '../../helpers/paths.js';
import { describeIf } from '../../helpers/skip.js';
import { caseNames, haveParserAnchors, parserAnchors } from './anchors.js';

describeIf(haveParserAnchors, 'BuildKit parser anchors not found', 'tsbuild parse on the BuildKit golden files', () => {
  test.each(caseNames('testfiles'))('%s: --format dump prints the expected dump', async (name) => {
    const dir = join(parserAnchors, 'testfiles', name);
    const r = await runTsbuild(['parse', '--format', 'dump', '-f', join(dir, 'Dockerfile')]);
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^\/.*:\d+: warning: Empty continuation line found in: /);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(dir, 'result'), 'utf8'));
  });

  test.each(caseNames('testfiles-negative'))('%s: exit 1 with one located error and the offending line', async (name) => {
    const dir = join(parserAnchors, 'testfiles-negative', name);
    const file = join(dir, 'Dockerfile');
    const r = await runTsbuild(['parse', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: \\S`));
    expect(lines[1]).toMatch(/^ \d+ \| /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('tsbuild parse', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-parse-'));
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx', 'Dockerfile'), 'FROM a\nRUN b \\\n\n  c\n');
    writeFileSync(join(dir, 'Dockerfile'), 'FROM cwd\n');
    writeFileSync(join(dir, 'bad'), 'FROM a\nLABEL x=1 y\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('PATH/Dockerfile by default, warnings on stderr as FILE:LINE: warning:', async () => {
    const r = await runTsbuild(['parse', 'ctx'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('(from "a")\n(run "b   c")\n');
    expect(r.stderr).toBe('ctx/Dockerfile:3: warning: Empty continuation line found in: RUN b   c\n');
  });

  test('./Dockerfile without arguments', async () => {
    const r = await runTsbuild(['parse'], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: '(from "cwd")\n' });
  });

  test('-f - reads standard input', async () => {
    const r = await runTsbuild(['parse', '-f', '-'], { cwd: dir, input: 'FROM stdin\nONBUILD RUN x\n' });
    expect(r).toMatchObject({ code: 0, stdout: '(from "stdin")\n(onbuild (run "x"))\n' });
  });

  test('--format ast gives the raw tree with locations', async () => {
    const r = await runTsbuild(['parse', '--format', 'ast', 'ctx'], { cwd: dir });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { version: number; file: string; children: Array<Record<string, unknown>>; warnings: unknown[] };
    expect(j.version).toBe(1);
    expect(j.file).toBe('ctx/Dockerfile');
    expect(j.warnings).toHaveLength(1);
    expect(j.children[1]).toMatchObject({ keyword: 'RUN', args: ['b   c'], startLine: 2, endLine: 4, column: 1 });
  });

  test('a syntax error names the file as given, with line, column and the line itself', async () => {
    const r = await runTsbuild(['parse', '-f', 'bad'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: bad:2:11: Syntax error - can\'t find = in "y". Must be of the form: name=value\n' +
      ' 2 | LABEL x=1 y\n' +
      '   |           ^\n',
    );
  });

  test('a missing file is one line and exit 1; a bad format is a usage error', async () => {
    const r = await runTsbuild(['parse', 'nowhere'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot read Dockerfile nowhere/Dockerfile: no such file\n');
    const u = await runTsbuild(['parse', '--format', 'yaml'], { cwd: dir });
    expect(u.code).toBe(2);
  });

  test('SIGINT while waiting on standard input cancels instead of hanging', async () => {
    const child = spawn(process.execPath, [cliPath, 'parse', '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    // stdin stays open; interrupt until the process is gone (the first SIGINT after startup must do).
    const timer = setInterval(() => child.kill('SIGINT'), 1500);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])));
    clearInterval(timer);
    child.stdin.destroy();
    if (signal === 'SIGINT') return; // interrupted before Node installed its handler: nothing to check
    expect(code).toBe(130);
    expect(stderr).toMatch(/^error: cancelled/);
    expect(stderr).not.toContain('second SIGINT');
  });
});
