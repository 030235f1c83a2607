import { describe, expect, test, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild } from '../../helpers/cli.js';
import { describeIf, haveBinary } from '../../helpers/skip.js';
import { REJECTIONS } from '../instructions/rejection-cases.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-llb-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string): string {
  writeFileSync(join(dir, name), content);
  return name;
}

const GOOD = 'FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app\nFROM alpine\nCOPY --from=build /app /app\nCMD ["/app"]\n';

describe('tsbuild llb', () => {
  test('--format json prints decoded ops, digests, metadata and the image config', async () => {
    write('Dockerfile', GOOD);
    write('.dockerignore', 'node_modules\n');
    const r = await runTsbuild(['llb', '--platform', 'linux/amd64', '.'], { cwd: dir });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      target: string;
      definition: { root: { digest: string }; vertices: { digest: string; kind: string; op: Record<string, unknown>; metadata: { description: string } }[] };
      image: { config: { Cmd: string[] }; history: unknown[] };
      stages: { id: string }[];
    };
    expect(out.target).toBe('stage-1');
    expect(out.definition.vertices.map((v) => v.metadata.description)).toEqual([
      '[stage-1 1/2] FROM docker.io/library/alpine:latest',
      '[build 1/4] FROM docker.io/library/golang:1.22',
      '[build 2/4] WORKDIR /src',
      '[internal] load build context',
      '[build 3/4] COPY . .',
      '[build 4/4] RUN go build -o /app',
      '[stage-1 2/2] COPY --from=build /app /app',
    ]);
    expect(out.definition.vertices.every((v) => /^sha256:[0-9a-f]{64}$/.test(v.digest))).toBe(true);
    const ctx = out.definition.vertices.find((v) => v.kind === 'source' && JSON.stringify(v.op).includes('local://context'));
    expect(JSON.stringify(ctx?.op)).toContain('node_modules');
    expect(out.image.config.Cmd).toEqual(['/app']);
    expect(out.stages.map((s) => s.id)).toEqual(['build', 'stage-1']);
  });

  test('-f FILE, --target, --build-arg and stdin', async () => {
    write('other.Dockerfile', 'ARG MSG=default\nFROM alpine AS one\nARG MSG\nRUN echo $MSG\nFROM one AS two\n');
    const r = await runTsbuild(['llb', '-f', 'other.Dockerfile', '--target', 'one', '--build-arg', 'MSG=hello', '.'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[one 2/2] RUN echo hello');
    const s = await runTsbuild(['llb', '-f', '-'], { cwd: dir, input: 'FROM busybox\nRUN true\n' });
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('docker-image://docker.io/library/busybox:latest');
  });

  test('warnings go to stderr, the JSON to stdout', async () => {
    write('Dockerfile', 'FROM alpine\nRUN true\n');
    const r = await runTsbuild(['llb', '--build-arg', 'UNUSED=1', '.'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning: one or more build-args [UNUSED] were not consumed\n');
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
  });

  describeIf(haveBinary('dot'), 'graphviz dot is not installed', '--format dot', () => {
    test('renders a graph that `dot -Tsvg` accepts', async () => {
      write('Dockerfile', GOOD);
      const r = await runTsbuild(['llb', '--format', 'dot', '.'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^digraph llb \{/);
      expect(r.stdout).toContain('subgraph cluster_');
      const svg = execFileSync('dot', ['-Tsvg'], { input: r.stdout }).toString();
      expect(svg).toContain('<svg');
      expect(svg).toContain('RUN go build');
    });
  });

  test('an unknown --target is one line with a suggestion, exit 1', async () => {
    write('Dockerfile', GOOD);
    const r = await runTsbuild(['llb', '--target', 'buld', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: target stage "buld" could not be found (did you mean build?)\n');
  });

  test('a missing Dockerfile is a clear error, exit 1', async () => {
    const r = await runTsbuild(['llb', '-f', 'nope.Dockerfile', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot read Dockerfile nope.Dockerfile: ENOENT\n');
  });

  test('tsbuild parse --format json prints typed instructions with locations', async () => {
    write('Dockerfile', 'FROM alpine AS a\nCOPY --chmod=755 --link x /x\nHEALTHCHECK --interval=5s CMD true\n');
    const r = await runTsbuild(['parse', '--format', 'json', '.'], { cwd: dir });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stages: { name: string; commands: Record<string, unknown>[] }[] };
    expect(out.stages[0]?.name).toBe('a');
    expect(out.stages[0]?.commands[0]).toMatchObject({ kind: 'COPY', chmod: '755', link: true, location: { file: 'Dockerfile', line: 2, column: 1 } });
    expect(out.stages[0]?.commands[1]).toMatchObject({ kind: 'HEALTHCHECK', interval: 5e9, test: ['CMD-SHELL', 'true'] });
    write('Dockerfile', 'FROM alpine\nCOPY --chmodd=1 a b\n');
    const bad = await runTsbuild(['parse', '--format', 'json', '.'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe('error: Dockerfile:2:6: unknown flag --chmodd for COPY (did you mean --chmod?)');
  });
});

describe('every rejection through the real CLI: located message, source line, exit 1', () => {
  test.each(REJECTIONS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    write('Dockerfile', c.dockerfile);
    const r = await runTsbuild(['llb', '--platform', 'linux/amd64', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^error: Dockerfile:${c.at}: `));
    expect(lines[0]).toContain(c.message);
    const line = Number(c.at.split(':')[0]);
    expect(lines[1]).toBe(` ${line} | ${c.dockerfile.split('\n')[line - 1] ?? ''}`);
    expect(lines[2]).toMatch(/^ +\| +\^$/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe('');
  });
});
