/**
 * Runs the `git` binary for the git source: never interactive (no credential or host-key prompt can
 * hang a build), killed on abort, and its failures turned into one line naming the command.
 */
import { execFile } from 'node:child_process';
import { CancelledError, TsbuildError, type SourceLocation } from '../../util/errors.js';
import { redactUrl } from './http.js';

export interface GitRunOptions {
  /** Working directory (`git -C`). */
  readonly cwd?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly location?: SourceLocation | undefined;
  /** Text for error messages instead of the raw arguments (e.g. to hide a URL's credentials). */
  readonly what?: string | undefined;
}

const BASE_CONFIG = [
  '-c', 'advice.detachedHead=false',
  '-c', 'init.defaultBranch=main',
  '-c', 'core.autocrlf=false',
  // Give up on a stalled transfer rather than hang the build.
  '-c', 'http.lowSpeedLimit=1',
  '-c', 'http.lowSpeedTime=600',
];

/** stdout of `git <args>`; throws GIT_FAILED with git's last error line. */
export function runGit(args: readonly string[], opts: GitRunOptions = {}): Promise<string> {
  if (opts.signal?.aborted) return Promise.reject(new CancelledError(opts.signal.reason));
  const full = [...BASE_CONFIG, ...(opts.cwd ? ['-C', opts.cwd] : []), ...args];
  const env = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: process.env['GIT_SSH_COMMAND'] ?? 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
  return new Promise((resolve, reject) => {
    execFile('git', full, { env, maxBuffer: 64 << 20, ...(opts.signal ? { signal: opts.signal } : {}) }, (err, stdout, stderr) => {
      if (!err) {
        resolve(stdout);
        return;
      }
      if (opts.signal?.aborted) {
        reject(new CancelledError(opts.signal.reason));
        return;
      }
      const lines = String(stderr).split('\n').map((l) => l.trim()).filter((l) => l !== '');
      const why = lines.filter((l) => /^(fatal|error):/.test(l)).pop() ?? lines.pop() ?? err.message;
      const what = opts.what ?? `git ${args.map((a) => (/^[a-z+]+:\/\//.test(a) ? redactUrl(a) : a)).join(' ')}`;
      reject(new TsbuildError('GIT_FAILED', `${what} failed: ${why}`, { cause: err, ...(opts.location ? { location: opts.location } : {}) }));
    });
  });
}
