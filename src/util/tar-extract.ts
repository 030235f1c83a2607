/**
 * Unpacks a tar stream into a directory: regular files, directories, symlinks and hard links with
 * their modes, times and (as root) owners. For the Solve stream: the daemon unpacks a context sent
 * as one tar (CONTEXT_TRANSFER_TAR), the client a `local` output sent back as a tar. Entry names
 * that would leave the directory (absolute, `..`) are refused.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lutimes, mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { UserInputError } from './errors.js';

function safeJoin(root: string, name: string): string {
  const n = normalize(name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (n === '' || n === '.') return root;
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new UserInputError('TAR_BAD_PATH', `tar entry ${JSON.stringify(name)} leaves the destination`);
  return join(root, n);
}

export async function extractTar(source: AsyncIterable<Uint8Array>, dest: string, signal: AbortSignal): Promise<void> {
  await mkdir(dest, { recursive: true });
  const extract = tarStream.extract();
  const dirs: { path: string; mode: number; mtime: Date }[] = [];
  const asRoot = process.getuid?.() === 0;
  const done = pipeline(Readable.from(source), extract, { signal });
  // When the loop below throws first (an abort, a bad entry), nothing awaits `done`: its rejection
  // must not become an unhandled one (that ends the daemon).
  done.catch(() => undefined);
  // Entries under a symlink this archive created would land wherever the link points.
  const links: string[] = [];
  for await (const entry of extract) {
    const h = entry.header;
    const path = safeJoin(dest, h.name);
    if (links.some((l) => path.startsWith(`${l}/`))) throw new UserInputError('TAR_BAD_PATH', `tar entry ${JSON.stringify(h.name)} is beneath a symlink`);
    if (h.type === 'symlink') links.push(path);
    const mtime = h.mtime ?? new Date(0);
    const mode = (h.mode ?? 0o644) & 0o7777;
    if (path !== dest) await mkdir(dirname(path), { recursive: true });
    switch (h.type) {
      case 'directory':
        await mkdir(path, { recursive: true });
        dirs.push({ path, mode, mtime });
        entry.resume();
        break;
      case 'symlink':
        await rm(path, { force: true, recursive: true });
        await symlink(h.linkname ?? '', path);
        entry.resume();
        break;
      case 'link':
        await rm(path, { force: true, recursive: true });
        await link(safeJoin(dest, h.linkname ?? ''), path);
        entry.resume();
        break;
      case 'file':
      case 'contiguous-file':
        await rm(path, { force: true, recursive: true });
        // With the signal: an abort mid-entry must end this copy too, or it waits for the rest
        // of a body that never comes.
        await pipeline(entry, createWriteStream(path, { mode }), { signal });
        await chmod(path, mode);
        break;
      default:
        // Devices and fifos are not recreated (they need privileges the client may lack).
        entry.resume();
        continue;
    }
    if (asRoot) await lchown(path, h.uid ?? 0, h.gid ?? 0);
    if (h.type !== 'directory') await lutimes(path, mtime, mtime);
  }
  await done;
  for (const d of dirs.reverse()) {
    await chmod(d.path, d.mode);
    await lutimes(d.path, d.mtime, d.mtime);
  }
}
