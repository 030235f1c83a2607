/**
 * The case catalogue itself: enough compare cases, every Dockerfile instruction and the issue's
 * features covered, every context recipe works, and broken case folders fail loudly by name.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaseError, loadCases } from './harness/cases.js';
import { prepareCase } from './harness/context.js';

const cases = loadCases();
const compare = cases.filter((c) => c.mode === 'compare');
const dockerfile = (name: string): string => readFileSync(join(cases.find((c) => c.name === name)?.dir ?? '', 'Dockerfile'), 'utf8');
const compareText = compare.map((c) => dockerfile(c.name)).join('\n');

describe('the compat case catalogue', () => {
  test('has at least 25 cases built by both Docker and tsbuild', () => {
    expect(compare.length).toBeGreaterThanOrEqual(25);
  });

  test.each([
    'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD',
    'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
  ])('compare cases use %s', (keyword) => {
    expect(compareText).toMatch(new RegExp(`^${keyword} `, 'm'));
  });

  test.each([
    ['COPY --from=<stage>', /^COPY --from=builder /m],
    ['COPY --from=<index>', /^COPY --from=0 /m],
    ['COPY --from=<image>', /^COPY --from=localhost\/busybox:latest /m],
    ['COPY --chown', /^COPY --chown=app /m],
    ['COPY --chmod', /^COPY --chmod=0755 /m],
    ['HEALTHCHECK options', /^HEALTHCHECK --interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ /m],
    ['HEALTHCHECK NONE', /^HEALTHCHECK NONE$/m],
    ['EXPOSE range', /^EXPOSE .*\d+-\d+/m],
    ['${VAR:-default}', /\$\{UNSET:-dflt\}/],
    ['RUN --mount', /^RUN --mount=type=cache/m],
  ])('compare cases cover %s', (_what, re) => {
    expect(compareText).toMatch(re);
  });

  test('features beyond the Dockerfile text are covered too', () => {
    expect(compare.some((c) => Object.keys(c.buildArgs).length > 0)).toBe(true);
    expect(compare.some((c) => existsSync(join(c.dir, 'context', '.dockerignore')) && /^!/m.test(readFileSync(join(c.dir, 'context', '.dockerignore'), 'utf8')))).toBe(true);
    expect(compare.some((c) => c.needs.length > 0 && /^ONBUILD /m.test(dockerfile(c.needs[0] as string)))).toBe(true);
    const archives = compare.flatMap((c) => c.context).filter((s) => s.kind === 'tar').map((s) => (s.kind === 'tar' ? s.compression : ''));
    expect(new Set(archives)).toEqual(new Set(['none', 'gzip', 'bzip2', 'xz']));
    for (const k of ['absent', 'removed', 'entry'] as const) expect(compare.some((c) => c.expect.some((x) => x.kind === k))).toBe(true);
  });

  test('tsbuild-only cases say why and state what tsbuild must produce', () => {
    for (const c of cases.filter((x) => x.mode === 'tsbuild-only')) {
      expect(c.why?.length ?? 0).toBeGreaterThan(20);
      expect(c.expect.length).toBeGreaterThan(0);
    }
  });

  test('a case comes after the cases it needs', () => {
    const seen = new Set<string>();
    for (const c of cases) {
      for (const n of c.needs) expect(seen.has(n)).toBe(true);
      seen.add(c.name);
    }
  });

  test.each(cases.filter((c) => c.context.length > 0).map((c) => [c.name, c] as const))('context recipe of %s prepares and cleans up', async (_n, spec) => {
    const p = await prepareCase(spec);
    try {
      for (const [i, step] of spec.context.entries()) {
        const at = join(p.contextDir, step.path);
        // A later `remove` step may take away what this one made.
        if (spec.context.slice(i + 1).some((l) => l.kind === 'remove' && (step.path === l.path || step.path.startsWith(`${l.path}/`)))) continue;
        if (step.kind === 'remove') expect(existsSync(at)).toBe(false);
        else expect(lstatSync(at, { throwIfNoEntry: false })).toBeDefined();
        if (step.kind === 'chmod') expect((lstatSync(at).mode & 0o7777).toString(8)).toBe(parseInt(step.mode, 8).toString(8));
        if (step.kind === 'symlink') expect(lstatSync(at).isSymbolicLink()).toBe(true);
      }
    } finally {
      await p.cleanup();
    }
    expect(existsSync(p.contextDir)).toBe(false);
  });
});

describe('loadCases rejects broken case folders by name', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tsbuild-compat-cases-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function caseDir(set: string, name: string, json: unknown, withDockerfile = true): Promise<string> {
    const dir = join(root, set, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'case.json'), typeof json === 'string' ? json : JSON.stringify(json));
    if (withDockerfile) await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
    return join(root, set);
  }

  test('bad JSON, schema violations and a missing Dockerfile', async () => {
    const bad = await caseDir('json', 'a', '{ nope');
    expect(() => loadCases(bad)).toThrow(new RegExp(`${join(bad, 'a', 'case.json')}: .*JSON`));
    const typo = await caseDir('typo', 'a', { description: 'x', mode: 'compare', expects: [] });
    expect(() => loadCases(typo)).toThrow(/must NOT have additional properties "expects"/);
    const noWhy = await caseDir('nowhy', 'a', { description: 'x', mode: 'tsbuild-only' });
    expect(() => loadCases(noWhy)).toThrow(/must have required property 'why'/);
    const badMode = await caseDir('mode', 'a', { description: 'x', mode: 'compare', expect: [{ kind: 'entry', path: '/x', mode: '9999' }] });
    expect(() => loadCases(badMode)).toThrow(CaseError);
    const noDockerfile = await caseDir('nodf', 'a', { description: 'x', mode: 'compare' }, false);
    expect(() => loadCases(noDockerfile)).toThrow(/Dockerfile: missing/);
  });

  test('unknown needs, cycles, and compare cases needing tsbuild-only ones', async () => {
    const unknown = await caseDir('unknown', 'a', { description: 'x', mode: 'compare', needs: ['ghost'] });
    expect(() => loadCases(unknown)).toThrow(/needs unknown case "ghost"/);
    await caseDir('cycle', 'a', { description: 'x', mode: 'compare', needs: ['b'] });
    const cycle = await caseDir('cycle', 'b', { description: 'x', mode: 'compare', needs: ['a'] });
    expect(() => loadCases(cycle)).toThrow(/dependency cycle a -> b -> a/);
    await caseDir('mixed', 'a', { description: 'x', mode: 'tsbuild-only', why: 'because Docker cannot', dockerOutcome: '^failed: ' });
    const mixed = await caseDir('mixed', 'b', { description: 'x', mode: 'compare', needs: ['a'] });
    expect(() => loadCases(mixed)).toThrow(/a compare case cannot need tsbuild-only case "a"/);
  });
});
