/**
 * The daemon's registry of running builds (src/control/running-builds.ts), in process: a watcher
 * gets every event from the beginning, then the live ones and the end; a watcher coming after the
 * end gets the replay and the end at once; step counts follow the vertex events; refs are unique;
 * the last keeping watcher leaving calls onUnwatched (a read-only one never holds a build); old log events give way past the replay bound.
 */
import { describe, expect, test } from '@jest/globals';
import { tsbuild } from '../../src/client/gen/control.js';
import { RunningBuilds, type BuildEnd, type BuildWatcher } from '../../src/control/running-builds.js';
import { TsbuildError } from '../../src/util/errors.js';

const S = tsbuild.control.v1.VertexState;
type Wire = tsbuild.control.v1.ProgressEvent.$Properties;

const vertex = (digest: string, state: number): Wire => ({ vertex: { digest, name: digest, state } });
const log = (data: string | Uint8Array): Wire => ({ log: { vertex: 'a', stream: 1, data: typeof data === 'string' ? Buffer.from(data) : data } });

function recorder(keepsAlive = true): { events: Wire[]; ends: BuildEnd[]; watcher: BuildWatcher } {
  const events: Wire[] = [];
  const ends: BuildEnd[] = [];
  return { events, ends, watcher: { keepsAlive, progress: (e) => events.push(e), end: (e) => ends.push(e) } };
}

const info = (ref: string) => ({ ref, client: 'local', tags: ['app:1'], target: '', dockerfile: 'Dockerfile' });

describe('RunningBuilds', () => {
  test('replay, then live events, then the end; counts follow the vertex events', () => {
    const builds = new RunningBuilds();
    const b = builds.add(info('r1'));
    b.progress(vertex('a', S.VERTEX_STATE_STARTED));
    b.progress(log('hello\n'));
    const late = recorder();
    const detach = b.watch(late.watcher);
    expect(late.events).toEqual([vertex('a', S.VERTEX_STATE_STARTED), log('hello\n')]);
    b.progress(vertex('a', S.VERTEX_STATE_COMPLETED));
    b.progress(vertex('b', S.VERTEX_STATE_CACHED));
    b.progress(vertex('c', S.VERTEX_STATE_STARTED));
    expect(late.events).toHaveLength(5);
    expect(builds.list().map((x) => x.toWire())).toEqual([expect.objectContaining({
      ref: 'r1', client: 'local', tags: ['app:1'], dockerfile: 'Dockerfile', verticesTotal: 3, verticesDone: 2, verticesCached: 1, attached: 1,
    })]);
    b.finish({ result: { ref: 'r1' } });
    expect(late.ends).toEqual([{ result: { ref: 'r1' } }]);
    expect(b.keepers).toBe(0);
    detach();
    // After the end: the replay and the end at once.
    const after = recorder();
    b.watch(after.watcher);
    expect(after.events).toHaveLength(5);
    expect(after.ends).toEqual([{ result: { ref: 'r1' } }]);
    builds.remove(b);
    expect(builds.get('r1')).toBeUndefined();
  });

  test('a ref in use is refused; the last watcher leaving calls onUnwatched once', () => {
    const builds = new RunningBuilds();
    const b = builds.add(info('r2'));
    expect(() => builds.add(info('r2'))).toThrow(expect.objectContaining({ code: 'BUILD_REF_IN_USE' }) as unknown as Error);
    let unwatched = 0;
    b.onUnwatched(() => unwatched++);
    const d1 = b.watch(recorder().watcher);
    const d2 = b.watch(recorder().watcher);
    d1();
    d1();
    expect(unwatched).toBe(0);
    d2();
    expect(unwatched).toBe(1);
    const err = new TsbuildError('X', 'failed');
    const w = recorder();
    b.watch(w.watcher);
    b.finish({ error: err });
    expect(w.ends).toEqual([{ error: err }]);
  });

  test('a watcher that does not keep the build alive (read-only token) neither holds it nor counts as a keeper', () => {
    const b = new RunningBuilds().add(info('r4'));
    let unwatched = 0;
    b.onUnwatched(() => unwatched++);
    const reader = b.watch(recorder(false).watcher);
    expect(b.keepers).toBe(0);
    expect(b.toWire().attached).toBe(1);
    const admin = b.watch(recorder(true).watcher);
    expect(b.keepers).toBe(1);
    admin();
    expect(unwatched).toBe(1);
    reader();
    expect(unwatched).toBe(1);
  });

  test('log events past the replay bound drop the oldest; vertex events stay', () => {
    const b = new RunningBuilds().add(info('r3'));
    b.progress(vertex('a', S.VERTEX_STATE_STARTED));
    const mib = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 10; i++) b.progress(log(mib));
    const w = recorder();
    b.watch(w.watcher);
    expect(w.events[0]).toEqual(vertex('a', S.VERTEX_STATE_STARTED));
    expect(w.events.filter((e) => e.log)).toHaveLength(8);
  });
});
