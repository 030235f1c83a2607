/** Every `tsbuild` subcommand, one file each. Add new commands to this list. */
import type { Command } from '../cli/command.js';

export const commands: readonly Command[] = [
];
