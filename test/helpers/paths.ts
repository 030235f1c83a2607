/** Locations tests use: the repository, the built CLI, and the shared anchors folder. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anchorsDir } from './requirements.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = join(repoRoot, 'dist', 'bin', 'tsbuild.cjs');
/** Conformance data (../shared/anchors or TSBUILD_ANCHORS_DIR); never copied into the repo. */
export { anchorsDir };
