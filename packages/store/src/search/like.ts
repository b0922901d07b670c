/**
 * LIKE patterns: `%` any run of characters, `_` one character, `\` escapes the next character.
 * `like` is case-sensitive, `ilike` folds ASCII letters only (as SQLite's lower() does), so SQL
 * (GLOB) and in-memory matching (RegExp) agree exactly.
 */
type Part = '%' | '_' | { lit: string };

function parts(pattern: string): Part[] {
  const out: Part[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) out.push({ lit: chars[++i]! });
    else if (c === '%' || c === '_') out.push(c);
    else out.push({ lit: c });
  }
  return out;
}

/** Lower-cases A–Z only: what SQLite's built-in lower() does. */
export const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The pattern as an SQLite GLOB pattern (compare against `lower(col)` when case-insensitive). */
export function likeToGlob(pattern: string, caseInsensitive: boolean): string {
  return parts(pattern)
    .map((p) => {
      if (p === '%') return '*';
      if (p === '_') return '?';
      const c = caseInsensitive ? asciiLower(p.lit) : p.lit;
      return '*?['.includes(c) ? `[${c}]` : c;
    })
    .join('');
}

/** The pattern as an anchored RegExp (test against `asciiLower(value)` when case-insensitive). */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const body = parts(pattern)
    .map((p) => {
      if (p === '%') return '.*';
      if (p === '_') return '.';
      const c = caseInsensitive ? asciiLower(p.lit) : p.lit;
      return c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`, 'su');
}
