/**
 * Prepares a case's build context in a temp dir: a copy of its context/ folder finished by the
 * case's steps (modes git cannot keep, symlinks, hardlinks, empty dirs, archives). Both builders build
 * from the very same prepared directory.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lchown, link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assertNever } from '../../../src/util/errors.js';
import type { BuildOptions, CaseSpec, ContextStep, PreparedCase } from './types.js';

/** Where the suite's archives get their fixed mtime (2000-01-01), like the busybox base. */
const ARCHIVE_EPOCH = 946684800;

function run(cmd: string, args: readonly string[], opts: { readonly cwd?: string; readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, signal: opts.signal, maxBuffer: 16 << 20 }, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

const compressFlag = { none: [], gzip: ['--gzip'], bzip2: ['--bzip2'], xz: ['--xz'] } as const;

async function applyStep(ctx: string, step: ContextStep, signal: AbortSignal | undefined): Promise<void> {
  const at = (p: string): string => join(ctx, p);
  switch (step.kind) {
    case 'chmod':
      await chmod(at(step.path), parseInt(step.mode, 8));
      return;
    case 'chown':
      await lchown(at(step.path), step.uid, step.gid);
      return;
    case 'symlink':
      await mkdir(dirname(at(step.path)), { recursive: true });
      await symlink(step.target, at(step.path));
      return;
    case 'hardlink':
      await mkdir(dirname(at(step.path)), { recursive: true });
      await link(at(step.target), at(step.path));
      return;
    case 'mkdir':
      await mkdir(at(step.path), { recursive: true });
      if (step.mode !== undefined) await chmod(at(step.path), parseInt(step.mode, 8));
      return;
    case 'write':
      await mkdir(dirname(at(step.path)), { recursive: true });
      await writeFile(at(step.path), step.content);
      if (step.mode !== undefined) await chmod(at(step.path), parseInt(step.mode, 8));
      return;
    case 'tar': {
      const owner = step.owner?.split(':');
      await run('tar', [
        '--create', '--file', at(step.path), ...compressFlag[step.compression], '--sort=name', '--numeric-owner',
        `--mtime=@${ARCHIVE_EPOCH}`, '--format=gnu',
        ...(owner ? [`--owner=${owner[0] as string}`, `--group=${owner[1] as string}`] : []),
        '-C', at(step.from), ...(step.members ?? ['.']),
      ], { signal });
      return;
    }
    case 'gzip':
      await run('sh', ['-c', 'gzip -n -c -- "$1" > "$2"', 'sh', at(step.from), at(step.path)], { signal });
      return;
    case 'remove':
      await rm(at(step.path), { recursive: true, force: true });
      return;
    default:
      assertNever(step, 'context step');
  }
}

/** Copies the case's context/ (if any) into a temp dir and applies its steps. */
export async function prepareCase(spec: CaseSpec, opts: BuildOptions = {}): Promise<PreparedCase> {
  const contextDir = await mkdtemp(join(tmpdir(), `tsbuild-compat-${spec.name}-`));
  const cleanup = (): Promise<void> => rm(contextDir, { recursive: true, force: true });
  try {
    const src = join(spec.dir, 'context');
    if (existsSync(src)) await cp(src, contextDir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    for (const [i, step] of spec.context.entries()) {
      opts.signal?.throwIfAborted();
      try {
        await applyStep(contextDir, step, opts.signal);
      } catch (e) {
        throw new Error(`${join(spec.dir, 'case.json')}: context step ${i} (${step.kind} ${step.path}): ${(e as Error).message}`, { cause: e });
      }
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { spec, dockerfile: join(spec.dir, 'Dockerfile'), contextDir, cleanup };
}
