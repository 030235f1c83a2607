/**
 * Issue 13, "Build history and exact miss reasons", through the real CLI: every executed step says
 * why the cache did not answer it — under the step in `--progress=plain`, in `--metadata-file`, and
 * in `tsbuild history --why` — for each kind of reason: first build of a Dockerfile, a changed file,
 * several changed and added files, a rebuilt parent, a changed build arg, changed instruction text,
 * --no-cache, and a base image name that now resolves to another image. The history is bounded
 * (TSBUILD_HISTORY_KEEP) and prune honours the bound. Through tsbuildd, `history --why` prints what
 * the embedded CLI prints.
 */
import { expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE, describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon } from '../../helpers/daemon.js';

const DOCKERFILE = [
  `FROM ${BASE}`,
  'COPY package.json ./',
  'RUN cat package.json > /installed',
  'COPY . /src',
  'ARG VERSION=1.2',
  'RUN echo $VERSION > /version',
  '',
].join('\n');

/** Step name → the `CACHE MISS:` line printed under it in plain progress (absent: none). */
function missLines(stderr: string): Map<string, string> {
  const names = new Map<string, string>();
  const out = new Map<string, string>();
  for (const line of stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, n, rest] = m as unknown as [string, string, string];
    if (!names.has(n)) names.set(n, rest);
    else if (rest.startsWith('CACHE MISS: ')) out.set(names.get(n) as string, rest.slice('CACHE MISS: '.length));
  }
  return out;
}

interface PastBuildJson {
  readonly buildId: string;
  readonly steps: readonly { readonly instruction: string; readonly outcome: string; readonly why?: string; readonly filesRead: number }[];
}

describeBuilds('miss reasons and build history', () => {
  const env = useBuildEnv();
  let ctx = '';
  let dockerfile = '';
  const ids: string[] = [];

  const build = async (extra: readonly string[] = [], opts: { readonly env?: NodeJS.ProcessEnv } = {}): Promise<{ r: CliResult; miss: Map<string, string>; why: string }> => {
    const r = await env.run(['build', '--progress=plain', '-f', dockerfile, ...extra, '-t', 'app', ctx], opts);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    const w = await env.run(['history', '--why']);
    expect(w.code).toBe(0);
    const j = await env.run(['history', '--why', '--format', 'json']);
    ids.push((JSON.parse(j.stdout) as PastBuildJson).buildId);
    return { r, miss: missLines(r.stderr), why: w.stdout };
  };

  test('a first build: every step ran because this Dockerfile was never built', async () => {
    ctx = await env.context('app', { 'package.json': '{"v":1}\n', 'src/a.js': 'a\n', 'src/b.js': 'b\n', 'src/d.js': 'd\n' });
    // The Dockerfile lives outside the context, so editing it changes no COPY.
    dockerfile = join(env.dir, 'app.Dockerfile');
    await writeFile(dockerfile, DOCKERFILE);
    const { miss, why } = await build();
    expect(miss.get('[2/5] COPY package.json ./')).toBe('first build of this Dockerfile');
    expect(miss.get('[3/5] RUN cat package.json > /installed')).toBe('first build of this Dockerfile');
    expect(miss.get('[4/5] COPY . /src')).toBe('first build of this Dockerfile');
    expect(miss.get('[5/5] RUN echo 1.2 > /version')).toBe('first build of this Dockerfile');
    expect(why.split('\n').slice(1)).toEqual([
      `FROM ${BASE}: first build of this Dockerfile`,
      'COPY package.json ./: first build of this Dockerfile',
      'RUN cat package.json > /installed: first build of this Dockerfile',
      'COPY . /src: first build of this Dockerfile',
      'RUN echo $VERSION > /version: first build of this Dockerfile',
      '',
    ]);
    expect(why).toMatch(/^build [0-9a-f]{20} \(app\) succeeded in \d+\.\ds: 5 steps, 0 cached, 5 executed\n/);
  });

  test('an unchanged rebuild is all cached: no CACHE MISS line', async () => {
    const { r, why } = await build();
    expect(r.stderr).not.toContain('CACHE MISS');
    expect(why.split('\n').slice(1, 3)).toEqual([`FROM ${BASE}: cached`, 'COPY package.json ./: cached']);
  });

  test('one copied file changed: the COPY names it, the steps after it name their rebuilt parent', async () => {
    await writeFile(join(ctx, 'package.json'), '{"v":2}\n');
    const meta = join(env.dir, 'meta.json');
    const { miss, why } = await build(['--metadata-file', meta]);
    expect(miss.get('[2/5] COPY package.json ./')).toBe('package.json changed');
    expect(miss.get('[3/5] RUN cat package.json > /installed')).toBe('parent step rebuilt (COPY package.json ./)');
    expect(miss.get('[4/5] COPY . /src')).toBe('parent step rebuilt (RUN cat package.json > /installed)');
    expect(why.split('\n').slice(1)).toEqual([
      `FROM ${BASE}: cached`,
      'COPY package.json ./: package.json changed',
      'RUN cat package.json > /installed: parent step rebuilt (COPY package.json ./)',
      'COPY . /src: parent step rebuilt (RUN cat package.json > /installed)',
      'RUN echo $VERSION > /version: parent step rebuilt (COPY . /src)',
      '',
    ]);
    const m = JSON.parse(await readFile(meta, 'utf8')) as { 'tsbuild.steps': { name: string; cacheMiss?: string }[] };
    expect(m['tsbuild.steps'].find((s) => s.name === '[2/5] COPY package.json ./')?.cacheMiss).toBe('package.json changed');
    expect(m['tsbuild.steps'].find((s) => s.name === '[3/5] RUN cat package.json > /installed')?.cacheMiss).toBe('parent step rebuilt (COPY package.json ./)');
  });

  test('several files changed and one added: counted and named, at most two per kind', async () => {
    for (const f of ['a', 'b', 'd']) await writeFile(join(ctx, 'src', `${f}.js`), `${f}${f}\n`);
    await writeFile(join(ctx, 'src', 'c.js'), 'c\n');
    const { miss, why } = await build();
    expect(miss.get('[2/5] COPY package.json ./')).toBeUndefined();
    expect(miss.get('[4/5] COPY . /src')).toBe('3 files changed (src/a.js, src/b.js, …), 1 added (src/c.js)');
    expect(miss.get('[5/5] RUN echo 1.2 > /version')).toBe('parent step rebuilt (COPY . /src)');
    expect(why).toContain('\nCOPY . /src: 3 files changed (src/a.js, src/b.js, …), 1 added (src/c.js)\n');
    const j = JSON.parse((await env.run(['history', '--why', '--format', 'json'])).stdout) as PastBuildJson;
    expect(j.steps.find((s) => s.instruction === 'COPY . /src')?.filesRead).toBe(6); // package.json, src and its four files
  });

  test('a build arg the RUN sees changed: its old and new values', async () => {
    const { miss, why } = await build(['--build-arg', 'VERSION=1.3']);
    expect([...miss]).toEqual([['[5/5] RUN echo 1.3 > /version', 'build arg VERSION changed 1.2 → 1.3']]);
    expect(why).toContain('\nRUN echo $VERSION > /version: build arg VERSION changed 1.2 → 1.3\n');
  });

  test('the instruction was edited', async () => {
    await writeFile(dockerfile, DOCKERFILE.replace('RUN echo $VERSION', 'RUN echo v$VERSION'));
    const { miss, why } = await build(['--build-arg', 'VERSION=1.3']);
    expect([...miss]).toEqual([['[5/5] RUN echo v1.3 > /version', 'instruction text changed']]);
    expect(why).toContain('\nRUN echo v$VERSION > /version: instruction text changed\n');
  });

  test('--no-cache', async () => {
    const { miss, why } = await build(['--no-cache', '--build-arg', 'VERSION=1.3']);
    expect(new Set(miss.values())).toEqual(new Set(['--no-cache']));
    expect(miss.size).toBe(5);
    expect(why).toContain('\nCOPY package.json ./: --no-cache\n');
  });

  test('a base image name that now resolves to another image', async () => {
    const base = await env.context('base', { Dockerfile: `FROM ${BASE}\nRUN echo one > /base\n` });
    const app = await env.context('on-base', { Dockerfile: 'FROM localhost/base:1\nRUN cat /base > /copy\n' });
    expect((await env.run(['build', '-q', '-t', 'localhost/base:1', base])).code).toBe(0);
    expect((await env.run(['build', '-q', '-t', 'on-base', app])).code).toBe(0);
    await writeFile(join(base, 'Dockerfile'), `FROM ${BASE}\nRUN echo two > /base\n`);
    const meta = join(env.dir, 'base-meta.json');
    expect((await env.run(['build', '-q', '--metadata-file', meta, '-t', 'localhost/base:1', base])).code).toBe(0);
    const config = (JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.config.digest'] ?? '';
    expect(config).toMatch(/^sha256:[0-9a-f]{64}$/);
    const r = await env.run(['build', '--progress=plain', '-t', 'on-base', app]);
    expect(r.code).toBe(0);
    const short = config.slice(0, 'sha256:'.length + 12);
    expect([...missLines(r.stderr)]).toEqual([
      ['[1/2] FROM localhost/base:1', `localhost/base:1 now resolves to ${short}`],
      ['[2/2] RUN cat /base > /copy', 'parent step rebuilt (FROM localhost/base:1)'],
    ]);
    const why = (await env.run(['history', '--why'])).stdout;
    expect(why.split('\n').slice(1)).toEqual([`FROM: localhost/base:1 now resolves to ${short}`, 'RUN cat /base > /copy: parent step rebuilt (FROM localhost/base:1)', '']);
  });

  test('the history keeps the newest N builds; prune honours the bound; an unknown build is an error', async () => {
    const first = ids[0] as string;
    expect((await env.run(['history', '--why', first])).stdout).toContain('first build of this Dockerfile');
    const prev = (JSON.parse((await env.run(['history', '--why', '--format', 'json'])).stdout) as PastBuildJson).buildId;
    // A build with a bound of 3 drops everything older than the newest 3.
    await build([], { env: { TSBUILD_HISTORY_KEEP: '3' } });
    const gone = await env.run(['history', '--why', first]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain(`no build ${first} in the history`);
    const newest = ids[ids.length - 1] as string;
    const older = prev;
    expect((await env.run(['history', '--why', older])).code).toBe(0);
    const p = await env.run(['prune', '--force'], { env: { TSBUILD_HISTORY_KEEP: '1' } });
    expect(p.code).toBe(0);
    expect((await env.run(['history', '--why', older])).code).not.toBe(0);
    expect((await env.run(['history', '--why', newest])).code).toBe(0);
  });

  test('through tsbuildd, history --why answers as the embedded CLI does', async () => {
    const addr = `unix://${join(env.dir, 'd.sock')}`;
    const daemon = await startDaemon(['--addr', addr, '--root', env.root]);
    try {
      const remote = (args: readonly string[]): Promise<CliResult> => runTsbuild(['--addr', addr, ...args]);
      await writeFile(join(ctx, 'package.json'), '{"v":3}\n');
      const first = await remote(['build', '--progress=plain', '-f', dockerfile, '-t', 'app', ctx]);
      expect(first.code).toBe(0);
      await writeFile(join(ctx, 'package.json'), '{"v":4}\n');
      const second = await remote(['build', '--progress=plain', '-f', dockerfile, '-t', 'app', ctx]);
      expect(second.code).toBe(0);
      expect(missLines(second.stderr).get('[2/5] COPY package.json ./')).toBe('package.json changed');
      const d = await remote(['history', '--why']);
      expect(d.code).toBe(0);
      expect(d.stdout).toContain('\nCOPY package.json ./: package.json changed\nRUN cat package.json > /installed: parent step rebuilt (COPY package.json ./)\n');
      const e = await env.run(['history', '--why']);
      expect(d.stdout).toBe(e.stdout);
      const unknown = await remote(['history', '--why', 'nosuchbuild']);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain('no build nosuchbuild in the history');
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    await rm(join(env.dir, 'd.sock'), { force: true });
  });

  // A context on standard input unpacks to a new directory every build; the history still finds
  // the earlier build of the same Dockerfile and tags, embedded and through the daemon.
  test('a tar context from standard input: the second build names the changed file, not "first build"', async () => {
    const addr = `unix://${join(env.dir, 'd2.sock')}`;
    const daemon = await startDaemon(['--addr', addr, '--root', env.root]);
    const tarOf = async (content: string): Promise<Buffer> => {
      const dir = await env.context(`stdin-${content.trim()}`, { Dockerfile: `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN cat /a.txt\n`, 'a.txt': content });
      return execFileSync('tar', ['-c', '-C', dir, '.']);
    };
    try {
      for (const [via, where] of [['embedded', ['--root', env.root]], ['daemon', ['--addr', addr]]] as const) {
        const tag = `stdin-${via}`;
        const first = await runTsbuild([...where, 'build', '--progress=plain', '-t', tag, '-'], { input: await tarOf(`one ${via}\n`) });
        expect(first.stderr).not.toContain('ERROR');
        expect(first.code).toBe(0);
        const second = await runTsbuild([...where, 'build', '--progress=plain', '-t', tag, '-'], { input: await tarOf(`two ${via}\n`) });
        expect(second.code).toBe(0);
        expect(missLines(second.stderr).get('[2/3] COPY a.txt /a.txt')).toBe('a.txt changed');
      }
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    await rm(join(env.dir, 'd2.sock'), { force: true });
  });
});
