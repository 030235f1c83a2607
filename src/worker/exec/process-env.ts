/** The environment a RUN process sees: the step's env plus the defaults Docker and BuildKit add. */
import { TsbuildError } from '../../util/errors.js';
import { ExecErrorCode } from './errors.js';

/** BuildKit's (and Docker's) PATH for a container whose image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ProcessEnvOptions {
  /** `KEY=VALUE` entries; a later entry for the same key wins, keeping the first one's position. */
  readonly env: readonly string[];
  /** The resolved user's home directory, used when env has no HOME. */
  readonly home: string;
  /** Added last: they override same-named entries of `env`. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** Set as SSH_AUTH_SOCK when env has none (the first ssh mount's target). */
  readonly sshAuthSock?: string;
}

function checkKey(key: string): void {
  if (key === '' || key.includes('\0') || key.includes('=')) {
    throw new TsbuildError(ExecErrorCode.invalidRequest, `invalid environment variable name ${JSON.stringify(key)}`);
  }
}

export function processEnv(opts: ProcessEnvOptions): string[] {
  const vars = new Map<string, string>();
  for (const entry of opts.env) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    checkKey(key);
    vars.set(key, eq < 0 ? '' : entry.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(opts.secretEnv ?? {})) {
    checkKey(k);
    vars.set(k, v);
  }
  if (!vars.has('PATH')) vars.set('PATH', DEFAULT_PATH);
  if (!vars.has('HOME')) vars.set('HOME', opts.home);
  if (opts.sshAuthSock !== undefined && !vars.has('SSH_AUTH_SOCK')) vars.set('SSH_AUTH_SOCK', opts.sshAuthSock);
  for (const v of vars.values()) {
    if (v.includes('\0')) throw new TsbuildError(ExecErrorCode.invalidRequest, 'environment values must not contain NUL bytes');
  }
  return [...vars].map(([k, v]) => `${k}=${v}`);
}
