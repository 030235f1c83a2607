/** The kernel's view of what is mounted (/proc/self/mountinfo), to find and undo leftover mounts. */
import { readFileSync } from 'node:fs';

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Every mount point in this mount namespace, in mount order (a mount's children after it). Read
 * synchronously: the kernel generates the text without disk I/O, and a RUN asks before each
 * mount, where a thread-pool trip would wait behind the build's other file I/O.
 */
export async function listMountPoints(): Promise<string[]> {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) out.push(unescapeMountPath(field));
  }
  return out;
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export async function mountPointsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const all = await listMountPoints();
  const under = all.filter((p) => p === dir || p.startsWith(prefix));
  // Later mounts may stack on earlier ones; unmount in reverse mount order, deeper paths first.
  return [...new Set(under)].reverse().sort((a, b) => b.split('/').length - a.split('/').length);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await listMountPoints()).includes(path);
}
