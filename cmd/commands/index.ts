/** Every `tsbuild` subcommand, one file each. Add new commands to this list. */
import type { Command } from '../cli/command.js';
import { buildCommand } from './build.js';
import { imageImportCommand } from './image-import.js';
import { llbCommand } from './llb.js';
import { parseCommand } from './parse.js';
import { imageLoadCommand } from './image-load.js';
import { imagesCommand } from './images.js';
import { rmiCommand } from './rmi.js';
import { tagCommand } from './tag.js';
import { historyCommand } from './history.js';
import { reportCommand } from './report.js';
import { compareCommand } from './compare.js';
import { inspectCommand } from './inspect.js';
import { duCommand } from './du.js';
import { pruneCommand } from './prune.js';
import { cacheCheckCommand } from './cache-check.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { loginCommand, logoutCommand } from './login.js';
import { infoCommand } from './info.js';
import { buildsCommand } from './builds.js';
import { attachCommand } from './attach.js';
import { imagePruneCommand } from './image-prune.js';
import { saveCommand } from './save.js';

export const commands: readonly Command[] = [
  buildCommand,
  imageImportCommand,
  llbCommand,
  parseCommand,
  imageLoadCommand,
  imagesCommand,
  rmiCommand,
  tagCommand,
  historyCommand,
  reportCommand,
  compareCommand,
  inspectCommand,
  duCommand,
  pruneCommand,
  cacheCheckCommand,
  pullCommand,
  pushCommand,
  loginCommand,
  logoutCommand,
  infoCommand,
  buildsCommand,
  attachCommand,
  imagePruneCommand,
  saveCommand,
];
