/** Errors of RUN steps. Codes are stable; callers match on them. */
import { TsbuildError } from '../../util/errors.js';

export const ExecErrorCode = {
  /** The process exited non-zero (or was killed by a signal). */
  failed: 'EXEC_FAILED',
  /** runc could not start the process (binary not found, bad cwd, mount failure). */
  startFailed: 'EXEC_START_FAILED',
  userNotFound: 'USER_NOT_FOUND',
  groupNotFound: 'GROUP_NOT_FOUND',
  invalidUser: 'INVALID_USER',
  invalidMount: 'INVALID_MOUNT',
  secretNotFound: 'SECRET_NOT_FOUND',
  sshNotFound: 'SSH_NOT_FOUND',
  invalidRequest: 'INVALID_EXEC_REQUEST',
  /** The default (sandbox) network cannot be had on this host: slirp4netns is not installed. */
  networkUnavailable: 'SANDBOX_NETWORK_UNAVAILABLE',
  /** The sandbox network could not be set up (namespace, slirp4netns) or torn down. */
  networkFailed: 'SANDBOX_NETWORK_FAILED',
} as const;

/** Go's %q for the strings we print: a double-quoted string with JSON escapes. */
function quote(s: string): string {
  return JSON.stringify(s);
}

export interface ExecFailedErrorOptions {
  readonly args: readonly string[];
  /** Process exit code; 128+N when killed by signal N. */
  readonly exitCode: number;
  /** The last output lines, oldest first, shown under the message. */
  readonly lastLines: readonly string[];
  /** Set when runc itself failed before or while starting the process. */
  readonly startError?: string;
  /** An explanation appended to the detail, e.g. a likely out-of-memory kill. */
  readonly hint?: string;
}

/**
 * A RUN whose process did not complete successfully. The message mirrors BuildKit's:
 * `process "/bin/sh -c false" did not complete successfully: exit code: 1`.
 */
export class ExecFailedError extends TsbuildError {
  readonly exitCode: number;
  readonly args: readonly string[];
  readonly lastLines: readonly string[];

  constructor(opts: ExecFailedErrorOptions) {
    const cmd = quote(opts.args.join(' '));
    const message = opts.startError !== undefined
      ? `process ${cmd} could not be started: ${opts.startError}`
      : `process ${cmd} did not complete successfully: exit code: ${opts.exitCode}`;
    const detail = opts.hint === undefined ? opts.lastLines : [...opts.lastLines, opts.hint];
    super(opts.startError !== undefined ? ExecErrorCode.startFailed : ExecErrorCode.failed, message, { detail });
    this.name = 'ExecFailedError';
    this.exitCode = opts.exitCode;
    this.args = opts.args;
    this.lastLines = opts.lastLines;
  }
}
