/** Picks a renderer by `--progress` mode. */
import { UserInputError } from '../util/errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { PlainRenderer } from './plain.js';
import { QuietRenderer } from './quiet.js';
import { RawJsonRenderer } from './rawjson.js';
import { TtyRenderer } from './tty.js';
import type { ProgressMode, ProgressRenderer, RenderTarget } from './types.js';

export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'plain', 'tty', 'rawjson', 'quiet'];

export interface RendererOptions {
  /** Where to draw (usually process.stderr). `auto` looks at its `isTTY`. */
  readonly out: RenderTarget;
  /** Clock (ms). Default Date.now. */
  readonly now?: () => number;
  /** tty redraw interval (default 100 ms); 0 redraws only on close. */
  readonly frameMs?: number;
  /** ANSI colors in the tty view (default: on unless NO_COLOR is set in `env`). */
  readonly color?: boolean;
  /** Environment consulted for NO_COLOR (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Validates a `--progress` value: one clear error naming the choices. */
export function parseProgressMode(value: string): ProgressMode {
  const m = PROGRESS_MODES.find((p) => p === value);
  if (m) return m;
  throw new UserInputError(
    'INVALID_PROGRESS_MODE',
    `invalid progress mode "${value}": expected one of ${PROGRESS_MODES.join(', ')}${didYouMean(value, PROGRESS_MODES)}`,
  );
}

export function createRenderer(mode: ProgressMode, opts: RendererOptions): ProgressRenderer {
  const now = opts.now === undefined ? {} : { now: opts.now };
  switch (mode) {
    case 'auto':
      return createRenderer(opts.out.isTTY === true ? 'tty' : 'plain', opts);
    case 'plain':
      return new PlainRenderer({ out: opts.out, ...now });
    case 'tty': {
      const env = opts.env ?? process.env;
      const color = opts.color ?? !('NO_COLOR' in env && env['NO_COLOR'] !== '');
      return new TtyRenderer({ out: opts.out, color, ...now, ...(opts.frameMs === undefined ? {} : { frameMs: opts.frameMs }) });
    }
    case 'rawjson':
      return new RawJsonRenderer({ out: opts.out, ...now });
    case 'quiet':
      return new QuietRenderer({ out: opts.out });
    default: {
      const never: never = mode;
      throw new UserInputError('INVALID_PROGRESS_MODE', `invalid progress mode "${String(never)}"`);
    }
  }
}
