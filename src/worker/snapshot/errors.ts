/** Errors of the overlay2 snapshotter. Codes are stable; callers match on them. */
import { TsbuildError } from '../../util/errors.js';
import type { TsbuildErrorOptions } from '../../util/errors.js';

export const SnapshotErrorCode = {
  /** No snapshot with that id (or it is still being created). */
  notFound: 'SNAPSHOT_NOT_FOUND',
  /** The id is not 64 lowercase hex digits. */
  invalidId: 'SNAPSHOT_INVALID_ID',
  /** The operation needs a committed snapshot (a parent, a view, a diff). */
  notCommitted: 'SNAPSHOT_NOT_COMMITTED',
  /** The operation needs an active snapshot (mount rw, commit). */
  notActive: 'SNAPSHOT_NOT_ACTIVE',
  /** remove() of a snapshot other snapshots are built on. */
  hasChildren: 'SNAPSHOT_HAS_CHILDREN',
  /** The snapshot is mounted (by this or another live process). */
  inUse: 'SNAPSHOT_IN_USE',
  /** Another live process is removing the snapshot (or its parent) right now. */
  busy: 'SNAPSHOT_BUSY',
  /** mount(8) failed. */
  mountFailed: 'SNAPSHOT_MOUNT_FAILED',
  /** umount(8) failed even lazily. */
  unmountFailed: 'SNAPSHOT_UNMOUNT_FAILED',
  /** Copying a deep chain into a flattened lower directory failed. */
  flattenFailed: 'SNAPSHOT_FLATTEN_FAILED',
} as const;

export type SnapshotErrorCode = (typeof SnapshotErrorCode)[keyof typeof SnapshotErrorCode];

export class SnapshotError extends TsbuildError {
  constructor(code: SnapshotErrorCode, message: string, opts: TsbuildErrorOptions = {}) {
    super(code, message, opts);
    this.name = 'SnapshotError';
  }
}

