/**
 * `--add-host` values as `docker build` and buildx take them (src/client/build-flags.ts,
 * src/util/extra-host.ts): `HOST:IP`, `HOST=IP`, IPv6 with or without brackets; what Docker's
 * ValidateExtraHost refuses is a usage error naming the value, and so is what could not be written
 * as one /etc/hosts line.
 */
import { expect, test } from '@jest/globals';
import { parseAddHosts } from '../../src/client/build-flags.js';
import { UsageError } from '../../src/util/errors.js';

test('HOST:IP, HOST=IP and IPv6 forms, in order, duplicates kept', () => {
  expect(parseAddHosts(['db:10.1.2.3', 'db:10.9.9.9', 'cache=192.168.7.1', 'v6:fe80::1', 'b6:[::1]', 'e6=2001:db8::7'])).toEqual([
    { host: 'db', ip: '10.1.2.3' },
    { host: 'db', ip: '10.9.9.9' },
    { host: 'cache', ip: '192.168.7.1' },
    { host: 'v6', ip: 'fe80::1' },
    { host: 'b6', ip: '::1' },
    { host: 'e6', ip: '2001:db8::7' },
  ]);
  expect(parseAddHosts([])).toEqual([]);
});

test.each([
  ['bad', 'build: invalid --add-host "bad": expected HOST:IP'],
  ['a:b', 'build: invalid --add-host "a:b": invalid IP address "b"'],
  [':10.0.0.1', 'build: invalid --add-host ":10.0.0.1": the host name is empty'],
  ['a b:10.0.0.1', 'build: invalid --add-host "a b:10.0.0.1": the host name "a b" has a space or #'],
  ['a#b:10.0.0.1', 'build: invalid --add-host "a#b:10.0.0.1": the host name "a#b" has a space or #'],
  ['gw:host-gateway', 'build: invalid --add-host "gw:host-gateway": host-gateway is not supported (nor by Docker 20.10\'s builder): give the IP address'],
  ['x:10.0.0.300', 'build: invalid --add-host "x:10.0.0.300": invalid IP address "10.0.0.300"'],
])('%s is refused', (value, message) => {
  let err: unknown;
  try {
    parseAddHosts([value], 'build: ');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toBe(message);
});
