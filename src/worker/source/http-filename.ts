/**
 * The name a downloaded file gets, by BuildKit's rules: an explicit name, else the filename of a
 * Content-Disposition header, else the last segment of the URL path, else `index`. Whatever the
 * server says, the result is one path segment (a `../x` filename cannot steer the write).
 */
import { posix } from 'node:path';

/** `filename` / `filename*` (RFC 5987) of a Content-Disposition value, if any. */
export function contentDispositionFilename(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const star = /filename\*\s*=\s*([^;]+)/i.exec(value);
  if (star) {
    const v = (star[1] as string).trim();
    const m = /^([^']*)'[^']*'(.*)$/.exec(v);
    try {
      return decodeURIComponent(m ? (m[2] as string) : v);
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(value);
  if (!plain) return undefined;
  return plain[2] !== undefined ? plain[2].replace(/\\(.)/g, '$1') : (plain[1] as string).trim();
}

/** One safe path segment of `name`, or undefined when nothing usable remains. */
function segment(name: string | undefined): string | undefined {
  if (name === undefined || name.endsWith('/')) return undefined;
  const base = posix.basename(name.replace(/\\/g, '/'));
  return base === '' || base === '.' || base === '..' ? undefined : base;
}

export function downloadFilename(opts: { readonly explicit?: string | undefined; readonly url: string; readonly contentDisposition?: string | null | undefined }): string {
  const explicit = segment(opts.explicit);
  if (explicit) return explicit;
  const cd = segment(contentDispositionFilename(opts.contentDisposition));
  if (cd) return cd;
  try {
    // Go's path.Base, as BuildKit: trailing slashes are dropped ("/dir/" names "dir").
    const fromPath = segment(decodeURIComponent(new URL(opts.url).pathname).replace(/\/+$/, ''));
    if (fromPath) return fromPath;
  } catch {
    // an undecodable path: fall back
  }
  return 'index';
}
