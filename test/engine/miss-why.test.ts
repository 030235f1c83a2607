/**
 * The words for why a step executed (src/engine/miss-why.ts), for each kind of difference from the
 * closest earlier record, and the order in which differences win (the first along a rebuild's
 * cascade). The integration suite (test/integration/build/miss-reasons.test.ts) checks the same
 * words come out of real builds.
 */
import { describe, expect, test } from '@jest/globals';
import type { EarlierStep } from '../../src/cache/build-history.js';
import type { FileFingerprint, HistoryStep } from '../../src/cache/types.js';
import { explainMiss, fileChanges, instructionOf, type CurrentStep } from '../../src/engine/miss-why.js';

const files: FileFingerprint[] = [['package.json', '01'], ['src', 'dd'], ['src/a.js', '0a'], ['src/b.js', '0b'], ['src/d.js', '0d']];

function earlier(o: Partial<HistoryStep>, f: readonly FileFingerprint[] | undefined = files): EarlierStep {
  const step: HistoryStep = {
    index: 1, vertexDigest: 'sha256:v', name: '[2/3] COPY . /src', stage: '0', instruction: 'COPY . /src', cacheKey: 'sha256:k', parentKey: 'sha256:p',
    outcome: 'executed', why: undefined, startedAt: 1, finishedAt: 2, durationMs: 1, layerSize: 1, bytesRead: 1,
    facts: { opDigest: 'sha256:op', inputs: ['sha256:p', 'content:x'] }, filesCount: f?.length ?? 0, filesTruncated: false, ...o,
  };
  return { buildId: 'b1', step, files: f };
}

function current(o: Partial<CurrentStep>): CurrentStep {
  return {
    instruction: 'COPY . /src', imageRef: undefined, parentKey: 'sha256:p', facts: { opDigest: 'sha256:op', inputs: ['sha256:p', 'content:y'] },
    files, reason: { kind: 'no-record' }, ...o,
  };
}

const seen = { dockerfileSeen: true };

describe('explainMiss', () => {
  test('--no-cache and a first build come before any comparison', () => {
    expect(explainMiss(current({ reason: { kind: 'ignore-cache' } }), earlier({}), seen)).toBe('--no-cache');
    expect(explainMiss(current({}), undefined, { dockerfileSeen: false })).toBe('first build of this Dockerfile');
  });

  test('one changed file is named; several are counted with two names each', () => {
    const one = files.map(([p, f]): FileFingerprint => [p, p === 'package.json' ? '02' : f]);
    expect(explainMiss(current({ files: one }), earlier({}), seen)).toBe('package.json changed');
    const many = [...files.map(([p, f]): FileFingerprint => [p, p.endsWith('.js') ? `${f}x` : f]), ['src/c.js', '0c'] as const].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(explainMiss(current({ files: many }), earlier({}), seen)).toBe('3 files changed (src/a.js, src/b.js, …), 1 added (src/c.js)');
    expect(fileChanges(files, files.filter(([p]) => p !== 'src/d.js'))).toBe('1 file removed (src/d.js)');
    expect(fileChanges(files, files)).toBeUndefined();
  });

  test("an earlier list the history cut short is compared up to its last path: what lies beyond is not 'added'", () => {
    const many = Array.from({ length: 30 }, (_, i): FileFingerprint => [`f${String(i).padStart(2, '0')}`, `${i}`]);
    const cut = many.slice(0, 10);
    const truncated = earlier({ filesTruncated: true, filesCount: 30 }, cut);
    const beyond = many.map(([p, f]): FileFingerprint => [p, p === 'f20' ? 'x' : f]);
    // A change beyond the cut is not seen in the lists: the key's inputs tell it.
    expect(explainMiss(current({ files: beyond }), truncated, seen)).toBe('the files it reads changed');
    const within = many.map(([p, f]): FileFingerprint => [p, p === 'f05' ? 'x' : f]);
    expect(explainMiss(current({ files: within }), truncated, seen)).toBe('f05 changed');
    expect(fileChanges(cut, many.filter(([p]) => p !== 'f09' && p !== 'f25'), { truncated: true })).toBe('1 file removed (f09)');
    // Not cut short: the same lists are compared whole.
    expect(fileChanges(cut, many)).toBe('20 files added (f10, f11, …)');
  });

  test('a parent that executed in this build, or changed before it', () => {
    const reason = { kind: 'input-changed', input: 0, inputName: '[2/4] COPY package.json ./' } as const;
    expect(explainMiss(current({ parentKey: 'sha256:q', reason }), earlier({}), seen)).toBe('parent step rebuilt (COPY package.json ./)');
    expect(explainMiss(current({ parentKey: 'sha256:q', reason, inputInstruction: 'COPY  package.json ./' }), undefined, seen)).toBe('parent step rebuilt (COPY  package.json ./)');
    expect(explainMiss(current({ parentKey: 'sha256:q' }), earlier({}), seen)).toBe('parent step changed');
  });

  test('build args, instruction text, base image', () => {
    const run = { instruction: 'RUN make', files: undefined };
    expect(explainMiss(current({ ...run, facts: { args: { VERSION: '1.3' } } }), earlier({ instruction: 'RUN make', facts: { args: { VERSION: '1.2' } } }, undefined), seen))
      .toBe('build arg VERSION changed 1.2 → 1.3');
    expect(explainMiss(current({ ...run, facts: { args: { A: '1' } } }), earlier({ instruction: 'RUN make' }, undefined), seen)).toBe('build arg A set to 1');
    expect(explainMiss(current({ instruction: 'RUN make all' }), earlier({ instruction: 'RUN make' }), seen)).toBe('instruction text changed');
    const from = { instruction: 'FROM alpine:3.4', imageRef: 'alpine:3.4', parentKey: undefined, files: undefined };
    expect(explainMiss(current({ ...from, facts: { imageId: `sha256:${'ab'.repeat(32)}` } }), earlier({ instruction: 'FROM alpine:3.4', parentKey: undefined, facts: { imageId: `sha256:${'cd'.repeat(32)}` } }, undefined), seen))
      .toBe('alpine:3.4 now resolves to sha256:abababababab');
  });

  test('nothing differs but the result: it was pruned', () => {
    const same = current({ facts: { opDigest: 'sha256:op', inputs: ['sha256:p', 'content:x'] } });
    expect(explainMiss(same, earlier({}), seen)).toBe('same inputs as an earlier build whose cached result is gone (pruned)');
    expect(explainMiss(same, earlier({ outcome: 'failed' }), seen)).toBe('same inputs as an earlier build, where this step failed');
    expect(explainMiss(current({ facts: { opDigest: 'sha256:op2', inputs: ['sha256:p', 'content:x'] } }), earlier({}), seen)).toBe('instruction options or environment changed');
  });

  test('instructionOf drops the progress prefix', () => {
    expect(instructionOf('[stage-1 2/5] RUN make')).toBe('RUN make');
    expect(instructionOf('RUN make')).toBe('RUN make');
  });
});
