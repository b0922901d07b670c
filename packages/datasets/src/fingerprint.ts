/**
 * A dataset's identity: for a kind that reads files under `path`, the SHA-256 of those files'
 * names (relative to the path) and contents, so the same files under another path are the same
 * dataset and an edited file is another. Each file is hashed once per process (streamed) and
 * remembered by (path, size, mtime, inode).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { DatasetError } from '@squash/core';
import { datasetRegistry, type DatasetSpec } from './dataset.js';
import { datasetFiles } from './files.js';

/** What ids hash instead of the path: the content of the files, not where they lie. */
export interface DatasetContent {
  sha256: string;
  files: number;
  bytes: number;
}

export interface DatasetFingerprint extends DatasetContent {
  kind: string;
  /** As the experiment wrote it. */
  path: string;
  /** Absolute, as resolved when it was hashed (not part of ids). */
  root: string;
}

interface FileHash {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

const hashes = new Map<string, FileHash>();
const CHUNK = 1 << 20;
let chunk: Buffer | undefined;

/** The file's SHA-256, read in 1 MiB chunks (never the whole file in memory); remembered until it changes. */
export function fileSha256(file: string): string {
  const st = statSync(file);
  const known = hashes.get(file);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino) return known.sha256;
  chunk ??= Buffer.allocUnsafe(CHUNK);
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const sha256 = hash.digest('hex');
  hashes.set(file, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 });
  return sha256;
}

/** Whether the kind's ids name its files' content (kinds that read a `path`) rather than the spec alone. */
export function identifiedByFiles(spec: Pick<DatasetSpec, 'name' | 'path'>): boolean {
  if (spec.path === undefined || !datasetRegistry.has(spec.name)) return false;
  return datasetRegistry.get(spec.name).identity !== 'spec';
}

/**
 * The identity of the files `spec.path` names (relative to `baseDir`), or undefined for a kind
 * identified by its spec (mnist: the package's own files; synthetic: generated). The files are
 * those the kind's builder says it reads (`files`), else every file under the path.
 */
export function datasetFingerprint(spec: DatasetSpec, baseDir: string): DatasetFingerprint | undefined {
  if (!identifiedByFiles(spec)) return undefined;
  const root = resolve(baseDir, spec.path!);
  const builder = datasetRegistry.get(spec.name);
  if (!builder.files && !existsSync(root)) {
    throw new DatasetError(`dataset path not found: ${root}`, { location: { file: root, path: 'dataset.path' } });
  }
  const files = datasetFiles(builder, spec, root);
  const manifest = createHash('sha256');
  let bytes = 0;
  for (const f of files) {
    // Names relative to the root, with '/' on every platform: moving the directory keeps them.
    const name = f === root ? '' : relative(root, f).split(sep).join('/');
    const size = statSync(f).size;
    bytes += size;
    manifest.update(`${name}\0${size}\0${fileSha256(f)}\n`);
  }
  return { kind: spec.name, path: spec.path!, root, files: files.length, bytes, sha256: manifest.digest('hex') };
}
