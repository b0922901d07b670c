/** Which files a dataset reads: shared by its identity (fingerprint.ts) and the per-process cache (dataset.ts). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetBuilder, DatasetSpec } from './dataset.js';

/** Every regular file under `root` (or `root` itself), sorted; names starting with '.' (.DS_Store, .git) are not data. */
export function filesUnder(root: string): string[] {
  if (statSync(root).isFile()) return [root];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || (e.isSymbolicLink() && statSync(p).isFile())) out.push(p);
    }
  };
  walk(root);
  // A fixed order, so the identity does not depend on the order the directory lists its entries in.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The files under `root` (the resolved `path`) a builder reads: those it names, else every file there. */
export function datasetFiles(builder: DatasetBuilder, spec: DatasetSpec, root: string): string[] {
  return builder.files ? builder.files(spec, root) : filesUnder(root);
}
