/** NODE_EXTRA_CA_CERTS put back after the launcher's first line moved it aside (src/util/extra-ca.ts). */
import { describe, expect, jest, test } from '@jest/globals';
import { DEFERRED_EXTRA_CA_ENV, extraCas, restoreDeferredExtraCa } from '../../src/util/extra-ca.js';

describe('deferred NODE_EXTRA_CA_CERTS', () => {
  test('is put back for child processes, and the marker removed', () => {
    const env: NodeJS.ProcessEnv = { [DEFERRED_EXTRA_CA_ENV]: '/etc/x.pem' };
    restoreDeferredExtraCa(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/x.pem' });
  });

  test('an empty marker (the variable was unset) leaves it unset', () => {
    const env: NodeJS.ProcessEnv = { [DEFERRED_EXTRA_CA_ENV]: '' };
    restoreDeferredExtraCa(env);
    expect(env).toEqual({});
  });

  test('a value node was started with wins over the marker', () => {
    const env: NodeJS.ProcessEnv = { [DEFERRED_EXTRA_CA_ENV]: '/etc/x.pem', NODE_EXTRA_CA_CERTS: '/etc/y.pem' };
    restoreDeferredExtraCa(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/y.pem' });
  });

  test('an unreadable file is ignored with a warning, as node does', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(extraCas({ NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' })).toEqual([]);
      expect(String(warn.mock.calls[0]?.[0])).toContain('Ignoring extra certs from `/nonexistent/ca.pem`');
    } finally {
      warn.mockRestore();
    }
  });
});
