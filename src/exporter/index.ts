/** The exporters tsbuild ships, registered by type name. */
import { ExporterRegistry } from './registry.js';
import { ImageStoreExporter } from './image-exporter.js';
import { ArchiveExporter } from './archive-exporter.js';
import { LocalDirExporter, TarExporter } from './filesystem-exporter.js';

export function defaultExporters(): ExporterRegistry {
  return new ExporterRegistry()
    .register('image', () => new ImageStoreExporter())
    .register('oci', () => new ArchiveExporter('oci'))
    .register('docker', () => new ArchiveExporter('docker'))
    .register('local', () => new LocalDirExporter())
    .register('tar', () => new TarExporter());
}

export { ExporterRegistry } from './registry.js';
export type * from './types.js';
