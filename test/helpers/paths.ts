/** Locations tests use: the repository, the built CLI, and the shared anchors folder. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'dist', 'bin', 'tsbuild.mjs');
/** Conformance data from upstream projects; never copied into the repo. */
export const anchorsDir = resolve(repoRoot, '..', 'shared', 'anchors');
export const haveAnchors = existsSync(anchorsDir);
