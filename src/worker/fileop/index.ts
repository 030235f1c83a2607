/** Public surface of the file operations (docs/fileops.md). */
export type {
  ChownOpt,
  CopyAction,
  CopyResult,
  FileAction,
  FileOpContext,
  MkdirAction,
  MkfileAction,
  NamedUserOpt,
  Owner,
  RmAction,
  SymlinkAction,
  UserOpt,
} from './types.js';
export { copy } from './copy.js';
export { mkdirAction } from './mkdir.js';
export { mkfileAction } from './mkfile.js';
export { rmAction } from './rm.js';
export { symlinkAction } from './symlink.js';
export { fromLlbFileAction, runFileAction, type FileActionResult } from './file-action.js';
export { parseChownSpec, resolveOwner } from './owner.js';
export { parseModeSpec, applyModeSpec, type ModeSpec } from './chmod.js';
export { resolveInRoot } from './root-path.js';
export type { RootedPath } from '../../util/root-path.js';
export { detectArchive } from './archive-detect.js';
