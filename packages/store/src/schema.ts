import type Database from 'better-sqlite3';

/** Splits at the commas that are not inside parentheses or quotes. */
function topLevelParts(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

/** One statement as text independent of how it was written: one column or constraint per line. */
function normalize(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
  if (!/^CREATE TABLE/i.test(flat)) return `${flat};`;
  const open = flat.indexOf('(');
  const close = flat.lastIndexOf(')');
  const body = topLevelParts(flat.slice(open + 1, close)).map((p) => `  ${p}`);
  return `${flat.slice(0, open).trim()} (\n${body.join(',\n')}\n)${flat.slice(close + 1)};`;
}

/**
 * The schema of a database as `schema.sql` holds it: every table, index and trigger SQLite
 * stores, tables first, then by kind and name, one column per line. Migrations that add columns leave their
 * mark in the stored text, so this is what a migrated file really has.
 */
export function schemaOf(db: Database.Database): string {
  const rows = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY type <> 'table', type, name`,
    )
    .all() as Array<{ type: string; name: string; sql: string }>;
  return `${rows.map((r) => normalize(r.sql)).join('\n\n')}\n`;
}

const HEADER =
  '-- The schema of a freshly migrated Squash database (every migration in src/migrations.ts applied).\n' +
  '-- Generated: run `npm run schema` in packages/store after adding a migration; schema.test.ts checks it.\n\n';

/** `schema.sql`'s full text for a database. */
export function schemaFile(db: Database.Database): string {
  return HEADER + schemaOf(db);
}
