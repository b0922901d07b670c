import { ConfigError, type SourceLocation } from '@squash/core';
import type { PathSegment } from './locate.js';

/**
 * Guards run on the plain data before the schema: what JSON Schema cannot say (YAML's `.inf` and
 * `.nan` are numbers to it) and what would exhaust the validator's stack (nesting no experiment
 * has). Iterative, so a deep document cannot overflow the check meant to catch it.
 */

/** The deepest real path is about 8 levels (`sweeps[0].stages[0].x.layers.y.range.start`). */
export const MAX_DEPTH = 32;

/** YAML's spelling of a non-finite number, as the user wrote it. */
function yamlSpelling(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  return x > 0 ? '.inf' : '-.inf';
}

/** Non-finite numbers and nesting deeper than MAX_DEPTH, each located; none for a plain document. */
export function checkLimits(
  data: unknown,
  at: (path: PathSegment[], key?: string) => SourceLocation,
  max = MAX_DEPTH,
): ConfigError[] {
  const errors: ConfigError[] = [];
  const stack: Array<{ value: unknown; path: PathSegment[] }> = [{ value: data, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      errors.push(new ConfigError(`expected a finite number, got ${yamlSpelling(value)}`, { location: at(path) }));
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= max) {
      // One error per too-deep branch is noise: the first names the problem.
      if (!errors.some((e) => e.message.startsWith('nested more than')))
        errors.push(
          new ConfigError(`nested more than ${max} levels deep`, {
            location: at(path),
            hint: 'no experiment nests this deep; check the indentation and brackets',
          }),
        );
      continue;
    }
    const entries: Array<[PathSegment, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i]!;
      stack.push({ value: v, path: [...path, k] });
    }
  }
  return errors;
}
