/** The progress stream and its renderers: what the CLI, the daemon and the exporters import. */
export type * from './types.js';
export { ProgressStream, teeWriter, type ProgressStreamOptions, type ReaderOptions } from './stream.js';
export { createRenderer, parseProgressMode, PROGRESS_MODES, type RendererOptions } from './renderers.js';
export { PlainRenderer, type PlainRendererOptions } from './plain.js';
export { TtyRenderer, type TtyRendererOptions } from './tty.js';
export { RawJsonRenderer } from './rawjson.js';
export { QuietRenderer } from './quiet.js';
export { startVertex, type VertexReporter, type ReporterOptions } from './vertex-reporter.js';
export { VertexProgressWriter } from './vertex-progress.js';
export { formatBytes } from './format.js';
