/**
 * Paths inside `ROOT/overlay2`, Docker's overlay2 layout plus a few tsbuild bookkeeping files:
 *
 * ```
 * overlay2/
 *   l/<LINK> -> ../<id>/diff      short names for lowerdir options
 *   .empty/                       an empty lower (overlayfs needs a lower; a view needs two)
 *   .init/{dev,proc,sys}/          the container init layer: real directories for the runtime's
 *                                  mount points, the top lower of every RUN rootfs (see mount())
 *   .tmp-<owner>-<id>/            a snapshot being created (renamed to <id> when ready)
 *   .trash-<owner>-<id>/          a snapshot being deleted
 *   <id>/
 *     diff/                       this snapshot's own changes (overlay upper format)
 *     link                        its short name (LINK)
 *     lower                       l/<parent LINK>:l/<grandparent LINK>:… (absent for a base)
 *     parent                      parent id (tsbuild; absent for a base)
 *     owner                       active only: the process that prepared it
 *     committed                   committed only: marker
 *     work/, merged/              overlayfs work dir and the rw mount point
 *     children/<child id>         one empty file per child (guards remove)
 *     removing                    marker while a remove is in progress
 *     views/<owner>/              read-only mount point of one process's view
 *     flat/                       the merged chain, copied, when deeper chains need it squashed
 * ```
 */
import { join } from 'node:path';

export class Overlay2Layout {
  /** `ROOT/overlay2`. */
  readonly dir: string;
  /** `ROOT/overlay2/l`: the cwd of every mount(8), so lowerdir entries are bare link names. */
  readonly linkDir: string;
  readonly emptyDir: string;
  /** `ROOT/overlay2/.init`: the init layer of container root filesystems. */
  readonly initDir: string;

  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'overlay2');
    this.linkDir = join(this.dir, 'l');
    this.emptyDir = join(this.dir, '.empty');
    this.initDir = join(this.dir, '.init');
  }

  snapshot(id: string): string {
    return join(this.dir, id);
  }
  diff(id: string): string {
    return join(this.dir, id, 'diff');
  }
  work(id: string): string {
    return join(this.dir, id, 'work');
  }
  merged(id: string): string {
    return join(this.dir, id, 'merged');
  }
  file(id: string, name: 'link' | 'lower' | 'parent' | 'owner' | 'committed' | 'removing'): string {
    return join(this.dir, id, name);
  }
  childrenDir(id: string): string {
    return join(this.dir, id, 'children');
  }
  childEntry(parent: string, child: string): string {
    return join(this.dir, parent, 'children', child);
  }
  viewsDir(id: string): string {
    return join(this.dir, id, 'views');
  }
  view(id: string, owner: string): string {
    return join(this.dir, id, 'views', owner);
  }
  flat(id: string): string {
    return join(this.dir, id, 'flat');
  }
  link(name: string): string {
    return join(this.linkDir, name);
  }
  /** Symlink target of `l/<name>`: relative, like Docker's, so the data root can move. */
  linkTarget(id: string): string {
    return `../${id}/diff`;
  }
  tmp(owner: string, id: string): string {
    return join(this.dir, `.tmp-${owner}-${id}`);
  }
  trash(owner: string, id: string): string {
    return join(this.dir, `.trash-${owner}-${id}`);
  }
}
