/**
 * Every `tsbuild` subcommand, one file each, loaded only when chosen: the table holds the words
 * that select a command, and `load` imports its file. A command's file pulls in what it needs
 * (progress renderers, the HTML report with Chart.js, tar streams, readline…), and loading all of
 * them cost about 20 ms of every command's start-up (issue 10). Add new commands to this list;
 * test/cmd/command-table.test.ts checks each entry's words against its command.
 */
import type { CommandEntry } from '../cli/command.js';

export const commands: readonly CommandEntry[] = [
  { name: 'build', load: async () => (await import('./build.js')).buildCommand },
  { name: 'image import', aliases: ['import'], load: async () => (await import('./image-import.js')).imageImportCommand },
  { name: 'llb', load: async () => (await import('./llb.js')).llbCommand },
  { name: 'parse', load: async () => (await import('./parse.js')).parseCommand },
  { name: 'image load', aliases: ['load'], load: async () => (await import('./image-load.js')).imageLoadCommand },
  { name: 'images', aliases: ['image ls', 'image list'], load: async () => (await import('./images.js')).imagesCommand },
  { name: 'rmi', aliases: ['image rm', 'image remove'], load: async () => (await import('./rmi.js')).rmiCommand },
  { name: 'tag', aliases: ['image tag'], load: async () => (await import('./tag.js')).tagCommand },
  { name: 'history', aliases: ['image history'], load: async () => (await import('./history.js')).historyCommand },
  { name: 'report', load: async () => (await import('./report.js')).reportCommand },
  { name: 'compare', load: async () => (await import('./compare.js')).compareCommand },
  { name: 'inspect', aliases: ['image inspect'], load: async () => (await import('./inspect.js')).inspectCommand },
  { name: 'du', load: async () => (await import('./du.js')).duCommand },
  { name: 'prune', load: async () => (await import('./prune.js')).pruneCommand },
  { name: 'cache check', load: async () => (await import('./cache-check.js')).cacheCheckCommand },
  { name: 'pull', aliases: ['image pull'], load: async () => (await import('./pull.js')).pullCommand },
  { name: 'push', aliases: ['image push'], load: async () => (await import('./push.js')).pushCommand },
  { name: 'login', load: async () => (await import('./login.js')).loginCommand },
  { name: 'logout', load: async () => (await import('./login.js')).logoutCommand },
  { name: 'info', load: async () => (await import('./info.js')).infoCommand },
  { name: 'builds', load: async () => (await import('./builds.js')).buildsCommand },
  { name: 'attach', load: async () => (await import('./attach.js')).attachCommand },
  { name: 'image prune', load: async () => (await import('./image-prune.js')).imagePruneCommand },
  { name: 'save', aliases: ['image save'], load: async () => (await import('./save.js')).saveCommand },
];
