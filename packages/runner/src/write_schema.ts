import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildExperimentSchema } from './spec/schema.js';

/** Where editors find the schema (`# yaml-language-server: $schema=…`). */
export const SCHEMA_FILE = fileURLToPath(new URL('../schema/experiment.schema.json', import.meta.url));

export function schemaText(): string {
  return `${JSON.stringify(buildExperimentSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
