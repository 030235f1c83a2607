/**
 * Check and Repair answers cross the wire generically (src/client/grpc-map-check.ts): through a
 * real protobuf encode/decode a report comes back exactly as the engine made it — problem kinds
 * and report fields the proto does not name included — and a daemon that sends only the typed
 * fields still gives every problem's kind and fields.
 */
import { expect, test } from '@jest/globals';
import { tsbuild } from '../../src/client/gen/control.js';
import { checkResultFromWire, checkResultToWire, repairReportFromWire, repairReportToWire } from '../../src/client/grpc-map-check.js';
import type { CheckProblem, CheckResult, RepairReport } from '../../src/client/types.js';

const pb = tsbuild.control.v1;

const problems = [
  { kind: 'missing-snapshot', key: 'sha256:aa', output: 0, resultId: 'r1' },
  { kind: 'orphan-tmp', path: '/root/tmp/x' },
  // A kind this proto has never heard of, with a field of a new type.
  { kind: 'future-kind', path: '/p', count: 3, nested: { a: 1 } },
] as unknown as CheckProblem[];

test('a check report round-trips exactly, unknown kinds and fields included', () => {
  const report = { ok: false, problems, recordsChecked: 7, blobsChecked: 9, recovered: ['removed 1 stale lock'], disk: { free: 1 } } as CheckResult;
  const wire = pb.CheckResponse.decode(pb.CheckResponse.encode(checkResultToWire(report)).finish());
  expect(checkResultFromWire(wire)).toEqual(report);
});

test('a repair report round-trips exactly, a field added later included', () => {
  const report = { fixed: problems.slice(0, 2), remaining: problems.slice(2), recovered: ['x'] } as RepairReport;
  const wire = pb.RepairResponse.decode(pb.RepairResponse.encode(repairReportToWire(report)).finish());
  expect(repairReportFromWire(wire)).toEqual(report);
});

test('without report_json the typed fields give kind and fields as text', () => {
  const wire = pb.CheckResponse.decode(pb.CheckResponse.encode({ ...checkResultToWire({ ok: false, problems, recordsChecked: 1, blobsChecked: 2, recovered: [] }), reportJson: '' }).finish());
  expect(checkResultFromWire(wire)).toEqual({
    ok: false, recordsChecked: 1, blobsChecked: 2, recovered: [],
    problems: [
      { kind: 'missing-snapshot', key: 'sha256:aa', output: '0', resultId: 'r1' },
      { kind: 'orphan-tmp', path: '/root/tmp/x' },
      { kind: 'future-kind', path: '/p', count: '3', nested: '{"a":1}' },
    ],
  });
});
