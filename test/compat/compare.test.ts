/** The comparison machinery: filesystem diffs, config/history normalisation, readable reports. */
import { describe, expect, test } from '@jest/globals';
import type { HistoryEntry, ImageConfig } from '../../src/oci/types.js';
import type { Flattened, FsEntry } from '../helpers/fs-flatten.js';
import {
  comparableImage, compareFs, compareImages, describeEntry, formatConfigDifferences, formatFsDifferences, mountStubPaths, normalizeCreatedBy, normalizeField,
} from './harness/compare.js';

const file = (over: Partial<FsEntry> = {}): FsEntry => ({ type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, sha256: 'aa', mtime: 1, ...over });
const dir = (over: Partial<FsEntry> = {}): FsEntry => ({ type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1, ...over });
const symlink = (linkname: string): FsEntry => ({ type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkname, mtime: 1 });

describe('compareFs', () => {
  test('empty RUN --mount stubs on one side only are not differences; non-empty ones are', () => {
    const stubs = mountStubPaths('FROM x\nRUN --mount=type=cache,target=/var/cache/app true\nRUN --mount=type=bind,source=a,dst=/mnt/a.txt true\n');
    expect([...stubs].sort()).toEqual(['/mnt', '/mnt/a.txt', '/var', '/var/cache', '/var/cache/app']);
    const docker = new Map([['/var', dir()], ['/var/cache', dir()], ['/var/cache/app', dir()], ['/mnt', dir()], ['/mnt/a.txt', file({ size: 0 })]]);
    expect(compareFs(docker, new Map([['/var', dir()]]), { mountStubs: stubs })).toEqual([]);
    const withContent = new Map([['/var', dir()], ['/var/cache', dir()], ['/var/cache/app', dir()], ['/var/cache/app/x', file()]]);
    expect(compareFs(withContent, new Map([['/var', dir()]]), { mountStubs: stubs }).map((d) => d.path)).toEqual(['/var/cache', '/var/cache/app', '/var/cache/app/x']);
  });

  test('equal filesystems have no differences; mtimes and directory sizes are not compared', () => {
    const a = new Map([['/d', dir({ mtime: 5, size: 4096 })], ['/d/f', file({ mtime: 5 })]]);
    const b = new Map([['/d', dir({ mtime: 9 })], ['/d/f', file({ mtime: 9 })]]);
    expect(compareFs(a, b)).toEqual([]);
    expect(compareFs(a, b, { compareMtime: (p) => p === '/d/f' })).toEqual([{ path: '/d/f', a: a.get('/d/f'), b: b.get('/d/f'), fields: ['mtime'] }]);
  });

  test('reports each differing field, and paths present on one side only', () => {
    const a = new Map<string, FsEntry>([
      ['/mode', file()], ['/owner', file()], ['/content', file()], ['/link', symlink('x')],
      ['/hl', file({ hardlinks: ['/hl', '/hl2'] })], ['/kind', file()], ['/only-a', file()],
    ]);
    const b = new Map<string, FsEntry>([
      ['/mode', file({ mode: 0o4755 })], ['/owner', file({ uid: 1000, gid: 100 })], ['/content', file({ sha256: 'bb', size: 2 })],
      ['/link', symlink('y')], ['/hl', file()], ['/kind', dir()], ['/only-b', file()],
    ]);
    const diffs = compareFs(a, b);
    expect(diffs.map((d) => [d.path, d.fields])).toEqual([
      ['/content', ['size', 'content']],
      ['/hl', ['hardlinks']],
      ['/kind', ['type']],
      ['/link', ['linkname']],
      ['/mode', ['mode']],
      ['/only-a', ['presence']],
      ['/only-b', ['presence']],
      ['/owner', ['uid', 'gid']],
    ]);
    expect(compareFs(a, b, { ignore: (p) => p !== '/mode' }).map((d) => d.path)).toEqual(['/mode']);
  });

  test('the report shows both sides of at most 30 paths', () => {
    const a = new Map<string, FsEntry>();
    for (let i = 0; i < 40; i++) a.set(`/f${String(i).padStart(2, '0')}`, file());
    const text = formatFsDifferences(compareFs(a, new Map()), ['docker', 'tsbuild']);
    expect(text.split('\n')[0]).toBe('40 path(s) differ (first 30 shown):');
    expect(text).toContain('  /f00  [presence]\n    docker:  file 0644 0:0 size=1 sha256=aa\n    tsbuild: (absent)');
    expect(text).toContain('/f29');
    expect(text).not.toContain('/f30');
    expect(formatFsDifferences([], ['a', 'b'])).toBe('');
  });

  test('describeEntry', () => {
    expect(describeEntry(file({ mode: 0o4755, uid: 1000, gid: 100, hardlinks: ['/a', '/b'] }))).toBe('file 4755 1000:100 size=1 sha256=aa links=/a,/b');
    expect(describeEntry(symlink('../t'))).toBe('symlink 0777 0:0 -> ../t');
    expect(describeEntry(undefined)).toBe('(absent)');
  });
});

describe('normalizeCreatedBy', () => {
  test('COPY/ADD flags newer BuildKit prints are dropped; sources and destination stay', () => {
    expect(normalizeCreatedBy('COPY --chown=app:app --chmod=0640 a.txt /x # buildkit')).toBe('COPY a.txt /x # buildkit');
    expect(normalizeCreatedBy('ADD --link --chmod=755 src /d/ # buildkit')).toBe('ADD src /d/ # buildkit');
    expect(normalizeCreatedBy('COPY --parents a/./b /c # buildkit')).toBe('COPY a/./b /c # buildkit');
    expect(normalizeCreatedBy('COPY a.txt /x # buildkit')).toBe('COPY a.txt /x # buildkit');
  });

  test('HEALTHCHECK: the newer 6-field form with a zero StartInterval equals Docker 20.10\'s 5-field form', () => {
    const v08 = 'HEALTHCHECK &{["CMD" "/bin/true"] "30s" "5s" "10s" \'\\x03\'}';
    expect(normalizeCreatedBy('HEALTHCHECK &{["CMD" "/bin/true"] "30s" "5s" "10s" "0s" \'\\x03\'}')).toBe(v08);
    expect(normalizeCreatedBy(v08)).toBe(v08);
    // A real StartInterval is information Docker 20.10 cannot have; it stays and differs.
    expect(normalizeCreatedBy('HEALTHCHECK &{["CMD" "/bin/true"] "30s" "5s" "10s" "2s" \'\\x03\'}')).not.toBe(v08);
    // tsbuild's current %+v wording is not BuildKit's: not normalised.
    expect(normalizeCreatedBy('HEALTHCHECK {Test:[CMD /bin/true] Interval:30s Timeout:5s StartPeriod:10s StartInterval:0s Retries:3}')).not.toBe(v08);
  });

  test('EXPOSE: Go map (v0.8) and list (newer) forms become the sorted port list', () => {
    expect(normalizeCreatedBy('EXPOSE map[443/tcp:{} 53/udp:{} 80/tcp:{}]')).toBe('EXPOSE [443/tcp 53/udp 80/tcp]');
    expect(normalizeCreatedBy('EXPOSE [80/tcp 443/tcp 53/udp]')).toBe('EXPOSE [443/tcp 53/udp 80/tcp]');
    expect(normalizeCreatedBy('EXPOSE 80 443/tcp 53/udp')).toBe('EXPOSE 80 443/tcp 53/udp');
  });

  test('ARG keeps its names only; everything else is untouched', () => {
    expect(normalizeCreatedBy('ARG OVERRIDDEN=from-dockerfile')).toBe('ARG OVERRIDDEN');
    expect(normalizeCreatedBy('ARG A=1 B C=')).toBe('ARG A B C');
    for (const s of ['RUN |2 A=1 B=2 /bin/sh -c echo # buildkit', 'ENV A=1', 'WORKDIR /w', 'ONBUILD RUN x', 'LABEL a=b']) expect(normalizeCreatedBy(s)).toBe(s);
  });
});

describe('normalizeField', () => {
  test('null, empty and false mean absent; maps are key-sorted; zero healthcheck durations drop', () => {
    expect(normalizeField('Cmd', null)).toBeUndefined();
    expect(normalizeField('WorkingDir', '')).toBeUndefined();
    expect(normalizeField('ArgsEscaped', false)).toBeUndefined();
    expect(normalizeField('Labels', {})).toBeUndefined();
    expect(normalizeField('OnBuild', [])).toBeUndefined();
    expect(JSON.stringify(normalizeField('Labels', { b: '1', a: '2' }))).toBe('{"a":"2","b":"1"}');
    expect(normalizeField('Healthcheck', { Test: ['NONE'], Interval: 0, Retries: 0 })).toEqual({ Test: ['NONE'] });
    // An empty Cmd list is not null: it stays.
    expect(normalizeField('Cmd', [])).toEqual([]);
  });
});

function image(history: HistoryEntry[], changes: number[], config: ImageConfig['config'] = {}): { archive: { format: 'docker-save'; config: ImageConfig; layers: Buffer[] }; flat: Flattened } {
  return {
    archive: { format: 'docker-save', config: { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] }, history }, layers: [] },
    flat: { fs: new Map(), removedByLayer: changes.map(() => []), entriesByLayer: changes, changesByLayer: changes },
  };
}

describe('comparableImage and compareImages', () => {
  test('a no-op layer is a layer: one side keeping it and the other writing an empty_layer entry differ', () => {
    const d = image([{ comment: 'Imported from -' }, { created_by: 'WORKDIR /tmp' }, { created_by: 'RUN /bin/sh -c x # buildkit' }], [10, 0, 3]);
    const t = image([{ created_by: '' }, { created_by: 'WORKDIR /tmp', empty_layer: true }, { created_by: 'RUN /bin/sh -c x # buildkit' }], [10, 3]);
    const di = comparableImage(d.archive, d.flat);
    const ti = comparableImage(t.archive, t.flat);
    // the layers that change something are counted for the report
    expect(di.layers).toBe(2);
    expect(di.rawLayers).toBe(3);
    expect(compareImages(di, ti)).toEqual([
      { field: 'layers', a: 3, b: 2 },
      { field: 'history[1]', a: { created_by: 'WORKDIR /tmp', empty_layer: false }, b: { created_by: 'WORKDIR /tmp', empty_layer: true } },
    ]);
    // both keeping the empty layer: equal
    const t2 = image([{ created_by: '' }, { created_by: 'WORKDIR /tmp' }, { created_by: 'RUN /bin/sh -c x # buildkit' }], [10, 0, 3]);
    expect(compareImages(di, comparableImage(t2.archive, t2.flat))).toEqual([]);
  });

  test('config fields, layer counts and history entries that differ are all reported', () => {
    const d = image([{ created_by: 'base' }, { created_by: 'RUN a # buildkit' }], [1, 1], { Cmd: ['a'], Env: ['PATH=/bin'], OnBuild: null });
    const t = image([{ created_by: 'base' }, { created_by: 'ONBUILD RUN x', empty_layer: true }], [1], { Cmd: ['b'], Env: ['PATH=/bin'] });
    const diffs = compareImages(comparableImage(d.archive, d.flat), comparableImage(t.archive, t.flat));
    expect(diffs.map((x) => x.field)).toEqual(['Cmd', 'layers', 'history[1]']);
    const text = formatConfigDifferences(diffs, ['docker', 'tsbuild']);
    expect(text).toContain('  Cmd\n    docker:  ["a"]\n    tsbuild: ["b"]');
    expect(text).toContain('{"created_by":"ONBUILD RUN x","empty_layer":true}');
  });

  test('history that does not account for the layers is a problem of that image', () => {
    const bad = image([{ created_by: 'base' }], [1, 1]);
    expect(comparableImage(bad.archive, bad.flat).problems).toEqual(['2 layers but only 1 non-empty history entries']);
    const short = image([{ created_by: 'a' }, { created_by: 'b' }], [1]);
    expect(comparableImage(short.archive, short.flat).problems).toEqual(['history entry "b" has no layer']);
  });
});
