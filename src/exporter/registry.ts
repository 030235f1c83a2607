/** Exporters by type name; one registry per engine (no module-level mutable state). */
import { UserInputError } from '../util/errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { Exporter, ExporterFactory } from './types.js';

export class ExporterRegistry {
  readonly #factories = new Map<string, ExporterFactory>();

  register(type: string, factory: ExporterFactory): this {
    this.#factories.set(type, factory);
    return this;
  }

  get(type: string): Exporter {
    const f = this.#factories.get(type);
    if (!f) {
      throw new UserInputError('UNKNOWN_EXPORTER', `unknown output type "${type}"${didYouMean(type, this.#factories.keys())}; supported: ${[...this.#factories.keys()].join(', ')}`);
    }
    return f();
  }

  types(): string[] {
    return [...this.#factories.keys()];
  }
}
