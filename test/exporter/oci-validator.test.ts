/** The OCI validator used by exporter tests must itself agree with upstream on every fixture. */
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { anchorsDir } from '../helpers/paths.js';
import { describeIf } from '../helpers/skip.js';
import { validateOci } from '../helpers/oci-validate.js';

interface Fixture { file: string; validator: string; expect: 'valid' | 'invalid'; convert?: string; comment?: string }

const fixturesDir = join(anchorsDir, 'oci-schema', 'fixtures');
const dockerToOci: Array<[string, string]> = [
  ['application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json'],
  ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'],
  ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
  ['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json'],
];

const fixturesIndex = join(fixturesDir, 'index.json');

describeIf(existsSync(fixturesIndex), `no OCI schema fixtures at ${fixturesIndex}`, 'OCI schema validator conformance', () => {
  const fixtures = JSON.parse(readFileSync(fixturesIndex, 'utf8')) as Fixture[];
  test('has all 81 fixtures', () => {
    expect(fixtures).toHaveLength(81);
  });
  describe.each(fixtures.map((f) => [f.file, f] as const))('%s', (_name, f) => {
    test(`is ${f.expect}`, () => {
      let text = readFileSync(join(fixturesDir, f.file), 'utf8');
      if (f.convert) for (const [from, to] of dockerToOci) text = text.split(from).join(to);
      const errors = validateOci(f.validator, text);
      if (f.expect === 'valid') expect(errors).toEqual([]);
      else expect(errors.length).toBeGreaterThan(0);
    });
  });
});
