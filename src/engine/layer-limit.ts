/**
 * Images deeper than their consumers can run. Docker's overlay2 driver refuses to start a
 * container on an image of more than 125 layers ("max depth exceeded": its mount options must fit
 * one page, with the container's own layer and init layer on top), and the seed talk's rule of
 * thumb is the same (at most 127 layers). tsbuild itself mounts up to the kernel's 500 lower
 * directories (and flattens beyond), so such an image builds here and fails later, elsewhere: the
 * build warns, names who will refuse it, and says how to get under the limit.
 */
import type { WarningEvent } from '../progress/types.js';

/** The deepest image Docker's overlay2 runs. */
export const DOCKER_MAX_LAYERS = 125;

/** The warning for an image of `layers` layers, or undefined when every consumer can run it. */
export function layerLimitWarning(layers: number, now = Date.now()): WarningEvent | undefined {
  if (layers <= DOCKER_MAX_LAYERS) return undefined;
  return {
    type: 'warning',
    message: `the image has ${layers} layers, more than the ${DOCKER_MAX_LAYERS} Docker's overlay2 storage driver can run`,
    detail: [
      `docker run (overlay2) fails with "max depth exceeded", and so do other runtimes whose overlay mount options must fit one page (containerd, Kubernetes nodes).`,
      'To get under the limit: fewer filesystem-changing steps (join RUN commands with &&, COPY a directory instead of file by file),',
      'or squash the result in a last stage: `FROM <base>` then `COPY --from=<build stage> / /` (one layer on top of the base).',
    ],
    timestamp: now,
  };
}
