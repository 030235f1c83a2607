/**
 * The errors of opening an archive source (`image load FILE|-`, `image import FILE|DIR|-`), in one
 * place: the engine raises them when the source is on its machine, tsbuild's gRPC client when it
 * opens the source to stream it to tsbuildd, so both print the same line with the same code.
 */
import { UserInputError } from './errors.js';

export const ArchiveSourceErrors = {
  loadNoStdin: () => new UserInputError('IMAGE_LOAD_NO_STDIN', 'load from - needs standard input'),
  loadMissing: (source: string) => new UserInputError('IMAGE_LOAD_SOURCE_MISSING', `open ${source}: no such file or directory`),
  loadDirectory: (source: string) =>
    new UserInputError('IMAGE_LOAD_NOT_TAR', `${source} is a directory; image load reads a tar archive (tar an OCI layout with: tar -C DIR -cf IMAGE.tar .)`),
  importNoStdin: () => new UserInputError('IMPORT_NO_STDIN', 'import from - needs standard input'),
  importMissing: (source: string) => new UserInputError('IMPORT_SOURCE_MISSING', `${source}: no such file or directory`),
} as const;
