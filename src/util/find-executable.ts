/** Finding a program the way a shell's `exec NAME` does, once, instead of at every start. */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** The executable `binary` names (a path, or a name looked up on PATH), or undefined. */
export function findExecutable(binary: string): string | undefined {
  const candidates = binary.includes('/') ? [binary] : (process.env['PATH'] ?? '').split(':').filter(Boolean).map((d) => join(d, binary));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}
