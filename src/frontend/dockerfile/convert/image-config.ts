/**
 * The result image config as the conversion assembles it: the empty config of `scratch`, base
 * configs inherited through the image resolver, Env updates, and history entries worded like
 * BuildKit's (`RUN /bin/sh -c make # buildkit`, `ENV A=1`, `empty_layer` for metadata-only steps).
 */
import type { ContainerConfig, HealthConfig, HistoryEntry, ImageConfig } from '../../../oci/types.js';
import type { LLBPlatform } from '../../../llb/types.js';
import { goQuote, goQuoteRune } from '../go-text.js';
import { formatGoDuration } from '../instructions/duration.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** The config of `FROM scratch` (and of images whose config is unknown). */
export function emptyImage(platform: LLBPlatform, opts: { workingDir?: boolean } = {}): ImageConfig {
  const config: ContainerConfig = { Env: [`PATH=${DEFAULT_PATH}`] };
  if (opts.workingDir ?? true) config.WorkingDir = '/';
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
}

/** A deep copy (configs are plain JSON data). */
export function cloneImage(img: ImageConfig): ImageConfig {
  return structuredClone(img);
}

/**
 * The fields of a base config a build inherits: BuildKit reads the base config as an OCI image
 * (plus `variant`), so Docker-only fields such as `comment` ("Imported from -"), `container`,
 * `container_config` and `docker_version` do not reach the built image.
 */
const INHERITED: ReadonlySet<string> = new Set(['author', 'architecture', 'os', 'os.version', 'os.features', 'variant', 'config', 'rootfs', 'history']);

/** A resolved base config, prepared for inheritance: `created` and Docker-only fields dropped, lists owned. */
export function inheritImage(base: ImageConfig, platform: LLBPlatform): ImageConfig {
  const img = cloneImage(base);
  for (const k of Object.keys(img)) if (!INHERITED.has(k)) delete (img as unknown as Record<string, unknown>)[k];
  img.config ??= {};
  img.rootfs ??= { type: 'layers', diff_ids: [] };
  img.history ??= [];
  img.architecture ||= platform.architecture;
  img.os ||= platform.os;
  return img;
}

/** Position of each key's first entry, per Env array (built once, kept up to date by setEnv). */
const envIndexes = new WeakMap<string[], Map<string, number>>();

/**
 * Sets KEY=VALUE in the image's Env, replacing the key's first entry in place. The stage's config is
 * its own (cloned from any base), so the array is updated, not copied: copying it per ENV made a
 * Dockerfile with many ENV lines quadratic.
 */
export function setEnv(img: ImageConfig, key: string, value: string): void {
  const env = (img.config.Env ??= []);
  let index = envIndexes.get(env);
  if (index === undefined) {
    index = new Map();
    for (const [i, e] of env.entries()) if (!index.has(envKey(e))) index.set(envKey(e), i);
    envIndexes.set(env, index);
  }
  const i = index.get(key);
  if (i !== undefined) {
    env[i] = `${key}=${value}`;
    return;
  }
  index.set(key, env.length);
  env.push(`${key}=${value}`);
}

export function envKey(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

export function envValue(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? '' : entry.slice(i + 1);
}

/** Appends a history entry. `withState` adds BuildKit's ` # buildkit` marker (steps that make ops). */
export function commitHistory(img: ImageConfig, msg: string, opts: { layer: boolean; withState: boolean; epoch: number | undefined }): void {
  // Flat, where `msg` is often a rope of several pieces that the image config would keep (one
  // object each) for the rest of the conversion. A join with a non-empty piece is flat; a join
  // with '' hands `msg` back as it is, so without the marker a slice (of a flattened copy) is.
  const createdBy = opts.withState ? [msg, ' # buildkit'].join('') : `${msg} `.slice(0, -1);
  const comment = HISTORY_COMMENT;
  // Whole literals (fields in the order they are written out): a field added afterwards gave
  // the entry a separate property store, one more object per entry for the rest of the build.
  const created = opts.epoch === undefined ? undefined : new Date(opts.epoch * 1000).toISOString().replace('.000Z', 'Z');
  const entry: HistoryEntry = created === undefined
    ? (opts.layer ? { created_by: createdBy, comment } : { created_by: createdBy, comment, empty_layer: true })
    : (opts.layer ? { created_by: createdBy, comment, created } : { created_by: createdBy, comment, created, empty_layer: true });
  // The config is the conversion's own working copy: appending in place keeps this linear.
  (img.history ??= []).push(entry);
}

/** Go's `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(xs: readonly string[]): string {
  return `[${xs.map(goQuote).join(' ')}]`;
}

/** Go's `%v` of a []string: `[a b]`. */
export function goList(xs: readonly string[]): string {
  return `[${xs.join(' ')}]`;
}

/**
 * BuildKit's `HEALTHCHECK %q` of the health config struct pointer, as Docker writes it:
 * `HEALTHCHECK &{["CMD" "/bin/true"] "30s" "5s" "10s" "0s" '\x03'}` (durations as quoted Go
 * duration strings, retries as a quoted rune — Go's %q of an int).
 */
export function healthcheckHistory(h: HealthConfig): string {
  const d = (ns: number | undefined): string => goQuote(formatGoDuration(ns ?? 0));
  return `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${goQuoteRune(h.Retries ?? 0)}}`;
}

/** The shell in effect: the image's SHELL, else /bin/sh -c. */
export function shellOf(img: ImageConfig): readonly string[] {
  const s = img.config.Shell;
  return s && s.length > 0 ? s : DEFAULT_SHELL;
}

/** Base configs without layers are scratch (BuildKit also accepts all-empty history). */
export function hasNoLayers(img: ImageConfig): boolean {
  if ((img.rootfs?.diff_ids ?? []).length > 0) return false;
  return (img.history ?? []).every((h) => h.empty_layer === true);
}
