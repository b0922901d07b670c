// Regenerates schema.sql from a freshly migrated database (run through `npm run schema`, which builds first).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../dist/index.js';
import { schemaFile } from '../dist/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'squash-schema-'));
try {
  const path = join(dir, 'fresh.db');
  SqliteStore.open(path).close();
  const db = new Database(path, { readonly: true });
  writeFileSync(new URL('../schema.sql', import.meta.url), schemaFile(db));
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
