/**
 * Validates `tsbuild report` and `tsbuild compare` JSON against docs/report-schema.json (JSON
 * Schema 2020-12) with ajv: returns the errors as `path message` lines, empty when valid.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { repoRoot } from './paths.js';

// Both packages are CommonJS with a `default` export; under NodeNext the import is the module object.
const Ajv2020 = Ajv2020Module.default;
const addFormats = ajvFormats.default;

export const reportSchemaPath = join(repoRoot, 'docs', 'report-schema.json');

let ajv: InstanceType<typeof Ajv2020> | undefined;

export function reportSchemaErrors(kind: 'BuildReport' | 'CompareReport', data: unknown): string[] {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(readFileSync(reportSchemaPath, 'utf8')) as object);
  }
  const id = 'https://tsbuild.dev/schemas/report-schema.json';
  const validate = ajv.getSchema(`${id}#/$defs/${kind}`);
  if (!validate) throw new Error(`no $defs/${kind} in ${reportSchemaPath}`);
  const whole = ajv.getSchema(id);
  const out: string[] = [];
  if (!validate(data)) out.push(...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
  if (whole && !whole(data)) out.push('does not match the top-level schema');
  return out;
}
