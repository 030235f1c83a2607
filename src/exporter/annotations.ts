/**
 * OCI annotations of an image output, as BuildKit's image and oci exporters take them (buildx's
 * `--annotation` becomes these attributes on every image output): `annotation.KEY=VALUE` and
 * `annotation-manifest.KEY` on the image manifest, `annotation-index.KEY` on a multi-platform
 * build's image index, `annotation-manifest-descriptor.KEY` on the manifest's descriptor (in the
 * index, and in an OCI archive's index.json), `annotation-index-descriptor.KEY` on the index's
 * descriptor in an OCI archive's index.json. The manifest kinds may name one platform:
 * `annotation-manifest[linux/arm64].KEY`. An image without any keeps its digest.
 */
import { formatPlatform, parsePlatform } from '../llb/platform.js';
import { UserInputError } from '../util/errors.js';

export type AnnotationTarget = 'manifest' | 'index' | 'manifest-descriptor' | 'index-descriptor';

export interface Annotation {
  readonly target: AnnotationTarget;
  /** Normalized `os/arch[/variant]`; undefined: every platform. */
  readonly platform: string | undefined;
  readonly key: string;
  readonly value: string;
}

const TYPED = /^annotation-(manifest-descriptor|index-descriptor|manifest|index)(?:\[([^\]]*)\])?\.(.+)$/;

function bad(attr: string, why: string): UserInputError {
  return new UserInputError('INVALID_OUTPUT', `invalid output attribute ${attr}: ${why}`);
}

function normalize(attr: string, platform: string): string {
  try {
    return formatPlatform(parsePlatform(platform));
  } catch (e) {
    throw bad(attr, `invalid platform "${platform}": ${(e as Error).message}`);
  }
}

/** The annotations an output's attributes ask for, in their order; a malformed key is an error. */
export function annotationsOf(attrs: ReadonlyMap<string, string>): Annotation[] {
  const out: Annotation[] = [];
  for (const [attr, value] of attrs) {
    if (!attr.startsWith('annotation')) continue;
    if (attr.startsWith('annotation.')) {
      const key = attr.slice('annotation.'.length);
      if (key === '') throw bad(attr, 'the annotation key is empty');
      out.push({ target: 'manifest', platform: undefined, key, value });
      continue;
    }
    const m = TYPED.exec(attr);
    if (!m) throw bad(attr, 'expected annotation.KEY or annotation-(manifest|index|manifest-descriptor|index-descriptor)[PLATFORM].KEY');
    const target = m[1] as AnnotationTarget;
    if (m[2] !== undefined && (target === 'index' || target === 'index-descriptor')) throw bad(attr, `${target} annotations apply to every platform`);
    out.push({ target, platform: m[2] === undefined ? undefined : normalize(attr, m[2]), key: m[3] as string, value });
  }
  return out;
}

/** The annotations for `target` (of `platform`, for the manifest kinds), or undefined when none. */
export function annotationsFor(list: readonly Annotation[], target: AnnotationTarget, platform?: string): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  const want = platform === undefined ? undefined : formatPlatform(parsePlatform(platform));
  for (const a of list) {
    if (a.target !== target || (a.platform !== undefined && a.platform !== want)) continue;
    (out ??= {})[a.key] = a.value;
  }
  return out;
}

/**
 * The annotations of an output, checked before anything is built: a Docker manifest (`type=docker`
 * with a `dest`) has no place for manifest annotations, so asking there is an error, not a loss.
 */
export function checkedAnnotations(type: string, attrs: ReadonlyMap<string, string>): Annotation[] {
  const list = annotationsOf(attrs);
  if (type === 'docker' && attrs.has('dest') && list.some((a) => a.target === 'manifest')) {
    throw new UserInputError('INVALID_OUTPUT', 'type=docker writes Docker manifests, which hold no annotations: use type=oci or type=image for annotation.* attributes');
  }
  return list;
}
