import { describe, expect, test } from '@jest/globals';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild } from '../../helpers/cli.js';
import { convert } from './helpers.js';

const DOCKERFILE = [
  'ARG BASE=alpine:3.19',
  'FROM ${BASE} AS build',
  'ARG VERSION=1.0',
  'ENV Z=last A=first M=middle',
  'LABEL b=2 a=1',
  'WORKDIR /src',
  'COPY --chown=app:app go.mod go.sum ./',
  'COPY src/ ./src/',
  'RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok \\',
  '    go build -ldflags "-X main.v=$VERSION" -o /out/app ./src',
  'RUN <<EOF',
  'echo heredoc',
  'EOF',
  'FROM scratch',
  'COPY --from=build --link /out/app /app',
  'COPY <<EOF /etc/motd',
  'built with ${BASE}',
  'EOF',
  'EXPOSE 8080',
  'ENTRYPOINT ["/app"]',
  '',
].join('\n');

function digests(def: { vertices: ReadonlyMap<string, unknown>; root?: { digest: string } | undefined }): string[] {
  return [...def.vertices.keys(), `root:${def.root?.digest ?? ''}`];
}

describe('digest determinism', () => {
  test('the same Dockerfile and args give the same bytes, twice in one process', async () => {
    const a = await convert(DOCKERFILE, { buildArgs: new Map([['VERSION', '2.0']]), dockerignore: ['.git'] });
    const b = await convert(DOCKERFILE, { buildArgs: new Map([['VERSION', '2.0']]), dockerignore: ['.git'] });
    expect(Buffer.from(a.definition.bytes).equals(Buffer.from(b.definition.bytes))).toBe(true);
    expect(digests(a.definition.loaded)).toEqual(digests(b.definition.loaded));
    expect(a.image).toEqual(b.image);
  });

  test('comments, blank lines and keyword case move locations but not digests', async () => {
    const shifted = `# syntax check\n\n${DOCKERFILE.replace('WORKDIR /src', 'workdir /src').replace('LABEL b=2', '# note\nLABEL b=2')}`;
    const a = await convert(DOCKERFILE);
    const b = await convert(shifted);
    expect(a.definition.loaded.root).toEqual(b.definition.loaded.root);
    expect(digests(a.definition.loaded)).toEqual(digests(b.definition.loaded));
  });

  test('the real CLI in child processes, run from different directories, gives the in-process digests', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'tsbuild-det-a-')), mkdtempSync(join(tmpdir(), 'tsbuild-det-b-'))];
    try {
      writeFileSync(join(dirs[0] as string, 'Dockerfile'), DOCKERFILE);
      writeFileSync(join(dirs[0] as string, '.dockerignore'), '.git\n*.md\n');
      cpSync(dirs[0] as string, dirs[1] as string, { recursive: true });
      const outs = await Promise.all(dirs.map((d) => runTsbuild(['llb', '--platform', 'linux/amd64', '--build-arg', 'VERSION=2.0', '.'], { cwd: d })));
      for (const o of outs) expect({ code: o.code, stderr: o.stderr }).toEqual({ code: 0, stderr: '' });
      const parsed = outs.map((o) => JSON.parse(o.stdout) as { definition: { root: { digest: string }; vertices: { digest: string }[] } });
      const inProcess = await convert(DOCKERFILE, { buildArgs: new Map([['VERSION', '2.0']]), dockerignore: ['.git', '*.md'] });
      const want = [...inProcess.definition.loaded.vertices.keys()];
      for (const p of parsed) {
        expect(p.definition.vertices.map((v) => v.digest)).toEqual(want);
        expect(p.definition.root.digest).toBe(inProcess.definition.loaded.root?.digest);
      }
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  test('a different --build-arg, platform or .dockerignore gives a different root', async () => {
    const base = await convert(DOCKERFILE);
    const roots = await Promise.all([
      convert(DOCKERFILE, { buildArgs: new Map([['VERSION', '9']]) }),
      convert(DOCKERFILE, { platform: 'linux/arm64' }),
      convert(DOCKERFILE, { dockerignore: ['secret'] }),
      convert(DOCKERFILE, { buildArgs: new Map([['BASE', 'alpine:3.18']]) }),
    ]);
    for (const r of roots) expect(r.definition.loaded.root?.digest).not.toBe(base.definition.loaded.root?.digest);
  });
});
