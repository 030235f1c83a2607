/**
 * buildx's attestation flags (src/client/build-flags.ts checkAttestationFlags): tsbuild makes no
 * attestation, so the forms that turn one off pass (CI command lines carry over) and any that asks
 * for one is a usage error that says so.
 */
import { expect, test } from '@jest/globals';
import { checkAttestationFlags } from '../../src/client/build-flags.js';
import { UsageError } from '../../src/util/errors.js';

const none = { provenance: [], sbom: [], attest: [] };

test('turning attestations off is accepted', () => {
  expect(() => checkAttestationFlags(none)).not.toThrow();
  expect(() => checkAttestationFlags({ provenance: ['false'], sbom: ['0'], attest: [] })).not.toThrow();
  expect(() => checkAttestationFlags({ provenance: ['mode=max,disabled=true'], sbom: [], attest: ['type=sbom,disabled=true', 'type=provenance,mode=min,disabled=true'] })).not.toThrow();
});

test.each([
  [{ ...none, provenance: [''] }, 'build: --provenance: tsbuild attaches no attestations'],
  [{ ...none, provenance: ['true'] }, 'build: --provenance=true: tsbuild attaches no attestations'],
  [{ ...none, provenance: ['mode=max'] }, 'build: --provenance=mode=max: tsbuild attaches no attestations'],
  [{ ...none, sbom: ['generator=docker/buildkit-syft-scanner'] }, 'build: --sbom=generator=docker/buildkit-syft-scanner: tsbuild attaches no attestations'],
  [{ ...none, attest: ['type=provenance,mode=max'] }, 'build: --attest=type=provenance,mode=max: tsbuild attaches no attestations'],
  [{ ...none, attest: ['mode=max'] }, 'build: invalid --attest "mode=max": type=provenance or type=sbom is required'],
])('%j is refused', (flags, start) => {
  let err: unknown;
  try {
    checkAttestationFlags(flags, 'build: ');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message.startsWith(start)).toBe(true);
});
