import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { stageNames } from './registry.js';

/**
 * The proof that a stage is declared once: outside tests, a stage name appears as a string
 * literal exactly once in all of packages/<package>/src, as the `name` of its own config; the
 * registry lists config objects, and everything else reads the config's fields.
 */
const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === '__tests__' || e.name === '__fixtures__' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Literal {
  file: string;
  line: number;
  text: string;
  /** It is the value of a `name:` property. */
  isName: boolean;
}

function stringLiterals(file: string): Literal[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Literal[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node)) {
      const parent = node.parent;
      out.push({
        file: relative(PACKAGES, file),
        line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
        text: node.text,
        isName:
          ts.isPropertyAssignment(parent) && parent.initializer === node && parent.name.getText(source) === 'name',
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const literals = readdirSync(PACKAGES)
  .map((p) => join(PACKAGES, p, 'src'))
  .filter((dir) => existsSync(dir))
  .flatMap(sourceFiles)
  .flatMap(stringLiterals);

describe('stage names', () => {
  const names = new Set(stageNames());
  const named = literals.filter((l) => names.has(l.text));

  it('the scan sees the sources (a broken walk would prove nothing)', () => {
    expect(literals.length).toBeGreaterThan(1000);
    expect(names.size).toBeGreaterThanOrEqual(10);
    expect(new Set(literals.map((l) => l.file.split('/')[0]))).toContain('runner');
  });

  it.each([...names])("'%s' is written once outside tests: as its config's name", (name) => {
    const at = named.filter((l) => l.text === name);
    const show = (ls: Literal[]) => ls.map((l) => `${l.file}:${l.line}`);
    expect(show(at.filter((l) => !l.isName)), `'${name}' named outside its config`).toEqual([]);
    expect(show(at), `'${name}' declared once`).toHaveLength(1);
  });
});
