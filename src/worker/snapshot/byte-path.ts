/**
 * File names are bytes, not text. Inside the differ, applier and disk-usage walks a path is held
 * as a "byte string": a JS string whose char codes are the raw bytes (latin1), so names that are not
 * valid UTF-8 survive unchanged, sort by byte value with plain `<`, and still split on '/'.
 */

/** A normal (UTF-8) path as a byte string. */
export function toBytePath(p: string): string {
  return Buffer.from(p, 'utf8').toString('latin1');
}

/** The Buffer form fs calls take. */
export function fsPath(bytePath: string): Buffer {
  return Buffer.from(bytePath, 'latin1');
}

/** For messages and for APIs that only take UTF-8 strings; undefined when the bytes are not UTF-8. */
export function utf8Path(bytePath: string): string | undefined {
  const buf = Buffer.from(bytePath, 'latin1');
  const s = buf.toString('utf8');
  return Buffer.byteLength(s) === buf.length && Buffer.from(s, 'utf8').equals(buf) ? s : undefined;
}

/** A readable rendering for error messages (invalid UTF-8 shown with replacement characters). */
export function displayPath(bytePath: string): string {
  return Buffer.from(bytePath, 'latin1').toString('utf8');
}
