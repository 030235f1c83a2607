/**
 * A build busy parsing and converting a huge Dockerfile still answers SIGTERM: the signal handler
 * can only run when the event loop turns, and a synchronous parse of 300,000 lines (several
 * seconds) used to swallow the signal until it was done. The build must stop with the cancel
 * exit code long before the parse could have finished, and leave nothing mounted.
 */
import { expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBuilds, mountsUnder, useBuildEnv } from '../../helpers/build-env.js';
import { cliPath } from '../../helpers/paths.js';

describeBuilds('signals during long front-end work', () => {
  const env = useBuildEnv();

  test('SIGTERM while a 300,000-line Dockerfile is parsed cancels the build promptly', async () => {
    const ctx = join(env.dir, 'huge');
    await mkdir(ctx, { recursive: true });
    const lines = ['FROM localhost/busybox:latest'];
    for (let i = 0; i < 300_000; i++) lines.push(`LABEL l${i}=v${i}`);
    lines.push('RUN true', '');
    await writeFile(join(ctx, 'Dockerfile'), lines.join('\n'));

    const child = spawn(process.execPath, [cliPath, '--root', env.root, 'build', '--progress=plain', ctx], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sentAt = 0;
    const exited = new Promise<{ code: number | null; afterSignalMs: number }>((resolve) => {
      child.on('close', (code) => resolve({ code, afterSignalMs: Date.now() - sentAt }));
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
      // The definition is being loaded: parse and conversion are under way now.
      if (sentAt === 0 && stderr.includes('[internal] load build definition')) {
        sentAt = Date.now();
        child.kill('SIGTERM');
      }
    });
    const { code, afterSignalMs } = await exited;
    expect(sentAt).toBeGreaterThan(0);
    expect(code).toBe(130);
    expect(stderr).toMatch(/cancel/i);
    // Parsing and converting this file takes well over 10 s on this machine; a turn of the event
    // loop comes every 2,000 instructions.
    expect(afterSignalMs).toBeLessThan(3000);
    expect(await mountsUnder(env.dir)).toEqual([]);
  }, 120_000);
});
