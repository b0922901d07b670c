import { isMap, isScalar, Scalar, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceLocation } from '@squash/core';

export type PathSegment = string | number;

/** `sweeps[2].stages[0].prune-weights` — how paths read in messages. */
export function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${seg}` : seg), '');
}

/** JSON pointer (ajv's instancePath) → segments; array indices become numbers. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => {
      const seg = s.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^\d+$/.test(seg) ? Number(seg) : seg;
    });
}

/**
 * Maps a document path to file:line:col. `key` points at a map key instead of its value (unknown
 * keys); a path that no longer exists in the document falls back to its nearest ancestor.
 */
export function locate(
  doc: Document,
  lc: LineCounter,
  file: string,
  path: readonly PathSegment[],
  key?: string,
): SourceLocation {
  const display = formatPath(key === undefined ? path : [...path, key]);
  let offset: number | undefined;
  if (key !== undefined) {
    const parent = doc.getIn(path, true) as Node | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      offset = (pair?.key as Node | undefined)?.range?.[0];
    }
  }
  for (let n = path.length; offset === undefined && n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    offset = node?.range?.[0];
  }
  const pos = lc.linePos(offset ?? 0);
  return { file, line: pos.line, column: pos.col, path: display || undefined };
}

/**
 * Column `col` (1-based) of the string value at `path` as a file position: past the opening quote of
 * a quoted scalar; a string folded over lines is located at its start.
 */
export function locateInString(
  doc: Document,
  lc: LineCounter,
  file: string,
  path: readonly PathSegment[],
  col: number,
): SourceLocation {
  const node = doc.getIn(path, true) as Node | undefined;
  const at = locate(doc, lc, file, path);
  if (!isScalar(node) || !node.range) return at;
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
  const start = node.range[0] + (quoted ? 1 : 0);
  const pos = lc.linePos(start + col - 1);
  // Only when the string sits on one line of the file is column arithmetic exact.
  if (pos.line !== lc.linePos(start).line) return at;
  return { ...at, line: pos.line, column: pos.col };
}
