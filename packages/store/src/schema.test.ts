import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaFile, schemaOf } from './schema.js';
import { SqliteStore } from './sqlite_store.js';

const CHECKED_IN = readFileSync(join(import.meta.dirname, '..', 'schema.sql'), 'utf8');

function freshSchema(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'squash-schema-')), 'fresh.db');
  SqliteStore.open(path).close();
  const db = new Database(path, { readonly: true });
  try {
    return schemaFile(db);
  } finally {
    db.close();
  }
}

describe('schema.sql', () => {
  it('is the schema of a freshly migrated database (regenerate: npm run schema)', () => {
    expect(freshSchema(), 'schema.sql is out of date: run `npm run schema` in packages/store').toBe(CHECKED_IN);
  });

  it('is independent of how the statements were spelled', () => {
    const a = new Database(':memory:');
    const b = new Database(':memory:');
    a.exec("CREATE TABLE t (x INTEGER,   y TEXT CHECK (y IN ('a', 'b')))");
    b.exec(`CREATE TABLE t (
              x INTEGER,
              y TEXT CHECK ( y IN ('a', 'b') )
            )`);
    expect(schemaOf(a)).toBe(schemaOf(b));
    expect(schemaOf(a)).toBe("CREATE TABLE t (\n  x INTEGER,\n  y TEXT CHECK (y IN ('a', 'b'))\n);\n");
  });
});
