/**
 * The generated control and health modules (scripts/gen-proto.mjs, `lazy`) build each message
 * type on first use instead of all ~200 when the module loads (issue 10's client start-up). Checks
 * that loading leaves the types unbuilt, that each one builds once and then is a plain value, that
 * every type of the package still builds, and that the method codecs (control-grpc.ts, which reach
 * the types through thunks) encode and decode what they did: the wire bytes of a Solve request and
 * a response with a oneof, compared with a hand-encoded protobuf.
 */
import { expect, test } from '@jest/globals';
import { tsbuild } from '../../src/client/gen/control.js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { grpc } from '../../src/client/gen/health.js';
import { HealthService } from '../../src/client/gen/health-grpc.js';

const v1 = tsbuild.control.v1 as unknown as Record<string, unknown>;

test('loading the module builds no message type; the first use builds one, once', () => {
  // No other test in this file touched ListBuildsRequest before.
  const before = Object.getOwnPropertyDescriptor(v1, 'ListBuildsRequest');
  expect(typeof before?.get).toBe('function');
  expect(before?.value).toBeUndefined();
  const built = v1['ListBuildsRequest'];
  expect(typeof built).toBe('function');
  const after = Object.getOwnPropertyDescriptor(v1, 'ListBuildsRequest');
  expect(after?.get).toBeUndefined();
  expect(after?.value).toBe(built);
  expect(v1['ListBuildsRequest']).toBe(built);
});

test('every type of the control and health packages builds', () => {
  const names = Object.keys(v1);
  expect(names.length).toBeGreaterThan(100);
  for (const name of names) {
    const t = v1[name];
    expect([name, typeof t]).toEqual([name, expect.stringMatching(/^(function|object)$/)]);
  }
  const health = grpc.health.v1 as unknown as Record<string, unknown>;
  for (const name of Object.keys(health)) expect([name, typeof health[name]]).toEqual([name, expect.stringMatching(/^(function|object)$/)]);
});

test('the method codecs encode and decode the same wire bytes as before', () => {
  // SolveRequest { Cancel cancel = 8 { string reason = 1 } }: tag 0x42, length, then tag 0x0a, length, bytes.
  const bytes = ControlService.Solve.requestSerialize({ cancel: { reason: 'stop' } });
  expect([...bytes]).toEqual([0x42, 6, 0x0a, 4, ...Buffer.from('stop')]);
  expect(ControlService.Solve.requestDeserialize(bytes).cancel?.reason).toBe('stop');

  // HealthCheckRequest { service = 1 (string) }: tag 0x0a, length, bytes.
  const hc = HealthService.Check.requestSerialize({ service: 'ab' });
  expect([...hc]).toEqual([0x0a, 2, 0x61, 0x62]);
  // HealthCheckResponse { status = 1 (enum) }: tag 0x08, varint.
  expect(HealthService.Check.responseDeserialize(Buffer.from([0x08, 1])).status).toBe(1);
});
