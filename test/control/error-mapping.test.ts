/**
 * Errors across the wire: the daemon's status (src/control/errors.ts) and the client's rebuilt
 * error (src/client/grpc-errors.ts) keep the class, the code, the location and the source line;
 * statuses without the detail trailer still get stable codes.
 */
import { describe, expect, test } from '@jest/globals';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { ERROR_DETAIL_KEY, errorFromStatus } from '../../src/client/grpc-errors.js';
import { DaemonErrors, statusOf } from '../../src/control/errors.js';
import { CancelledError, TsbuildError, UsageError, UserInputError } from '../../src/util/errors.js';

const roundTrip = (e: unknown): unknown => errorFromStatus(statusOf(e));

describe('domain error -> status -> domain error', () => {
  test('a located Dockerfile error keeps code, location, source line and the caret snippet data', () => {
    const e = new UserInputError('DOCKERFILE_UNKNOWN_FLAG', 'unknown flag --chmodd for COPY (did you mean --chmod?)', {
      location: { file: 'Dockerfile', line: 7, column: 3 }, sourceLine: 'COPY --chmodd=644 a /b', detail: ['more'],
    });
    const s = statusOf(e);
    expect(s.code).toBe(Status.INVALID_ARGUMENT);
    expect(s.details).toBe('Dockerfile:7:3: unknown flag --chmodd for COPY (did you mean --chmod?)');
    const back = errorFromStatus(s) as UserInputError;
    expect(back).toBeInstanceOf(UserInputError);
    expect(back.code).toBe(e.code);
    expect(back.message).toBe(e.message);
    expect(back.location).toEqual({ file: 'Dockerfile', line: 7, column: 3 });
    expect(back.sourceLine).toBe('COPY --chmodd=644 a /b');
    expect(back.detail).toEqual(['more']);
    expect(back.describe()).toBe(e.describe());
  });

  test.each([
    [new TsbuildError('IMAGE_NOT_FOUND', 'no such image: app'), Status.NOT_FOUND, TsbuildError],
    [new UserInputError('INVALID_FLAG', 'bad'), Status.INVALID_ARGUMENT, UserInputError],
    [new UsageError('usage'), Status.INVALID_ARGUMENT, UsageError],
    [new CancelledError(new Error('received SIGINT')), Status.CANCELLED, CancelledError],
    [DaemonErrors.unauthenticated('no token'), Status.UNAUTHENTICATED, TsbuildError],
    [DaemonErrors.permissionDenied('Prune', 'dash'), Status.PERMISSION_DENIED, TsbuildError],
    [DaemonErrors.notImplemented('Solve'), Status.UNIMPLEMENTED, TsbuildError],
    [DaemonErrors.tooManyBuilds('ci', 2), Status.RESOURCE_EXHAUSTED, TsbuildError],
    [DaemonErrors.shuttingDown(), Status.UNAVAILABLE, TsbuildError],
    [new TsbuildError('PREFLIGHT_NO_RUNC', 'runc missing'), Status.FAILED_PRECONDITION, TsbuildError],
    [new TsbuildError('SOMETHING_ELSE', 'boom'), Status.INTERNAL, TsbuildError],
  ])('%s -> status %s and back to the same class and code', (e, code, cls) => {
    expect(statusOf(e).code).toBe(code);
    const back = roundTrip(e) as TsbuildError;
    expect(back).toBeInstanceOf(cls);
    expect(back.code).toBe(e.code);
    expect(back.message).toBe(e.message);
  });

  test('a non-domain error becomes INTERNAL with its message', () => {
    const s = statusOf(new RangeError('index out of range'));
    expect(s.code).toBe(Status.INTERNAL);
    const back = errorFromStatus(s) as TsbuildError;
    expect(back.code).toBe('INTERNAL');
    expect(back.message).toBe('internal error: index out of range');
  });
});

describe('statuses without the detail trailer', () => {
  test.each([
    [Status.UNAVAILABLE, 'DAEMON_UNAVAILABLE', /^cannot reach tsbuildd: connect ENOENT/],
    [Status.UNAUTHENTICATED, 'UNAUTHENTICATED', /connect ENOENT/],
    [Status.DATA_LOSS, 'GRPC_DATA_LOSS', /connect ENOENT/],
  ])('status %s -> code %s', (code, expected, re) => {
    const e = errorFromStatus({ code, details: 'connect ENOENT /run/x.sock', metadata: new Metadata() }) as TsbuildError;
    expect(e.code).toBe(expected);
    expect(e.message).toMatch(re);
  });

  test('CANCELLED becomes a CancelledError; a broken trailer is ignored', () => {
    expect(errorFromStatus({ code: Status.CANCELLED, details: 'Cancelled on client', metadata: new Metadata() })).toBeInstanceOf(CancelledError);
    const md = new Metadata();
    md.set(ERROR_DETAIL_KEY, Buffer.from([0xff, 0xff, 0xff]));
    expect((errorFromStatus({ code: Status.INTERNAL, details: 'x', metadata: md }) as TsbuildError).code).toBe('GRPC_INTERNAL');
  });

  test('values that are not statuses pass through', () => {
    const e = new Error('plain');
    expect(errorFromStatus(e)).toBe(e);
  });
});
