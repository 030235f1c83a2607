/**
 * Names a context directory by what identifies it on one machine: `<dev>:<ino>:<birthtime
 * ns>:<ctime ns>`. The client sends it with the directory's path (BuildStart.context_watch); the
 * daemon computes it for the path as it sees it, and keeps a change journal of the directory only
 * when both agree — a daemon in another mount namespace, on another host or behind a bind mount of
 * another directory sees another id (or no directory), and the client walks as before. Birth and
 * change times make an accidental match of device and inode numbers across machines (identical VM
 * images) practically impossible; not every file system keeps a birth time, and a root whose own
 * entries changed simply gets a new id (the journal then starts over).
 */
import { statSync } from 'node:fs';

/** The id of directory `path` (following symlinks), or undefined when it is not a directory. */
export function contextRootId(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isDirectory()) return undefined;
    return `${st.dev}:${st.ino}:${st.birthtimeNs}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}
