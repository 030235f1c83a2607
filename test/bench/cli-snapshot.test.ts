/**
 * The benchmarks' private copy of the CLI (bench/lib/cli-snapshot.ts) runs with the native module,
 * as the built tree does: without it every benchmark measured the fallbacks (a mount(8) spawn per
 * RUN, COPY without its native batches). Needs `npm run build`.
 */
import { expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotCli } from '../../bench/lib/cli-snapshot.js';
import { nativeSysProblem } from '../../src/util/native-sys.js';
import { repoRoot } from '../helpers/paths.js';
import { testIf } from '../helpers/skip.js';

const built = existsSync(join(repoRoot, 'dist', 'bin', 'tsbuild.mjs'));

testIf(built && nativeSysProblem() === undefined, 'needs npm run build (the CLI bundle and the native module)', 'the CLI copy has the native module', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-cli-snapshot-'));
  try {
    const cli = await snapshotCli(join(dir, 'cli'), { signal: new AbortController().signal });
    const info = execFileSync(process.execPath, [cli, '--root', join(dir, 'root'), 'info'], { env: { ...process.env, NODE_OPTIONS: '' } }).toString();
    expect(info).toMatch(/^Features:.*\bnative-sys\b/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
