import { dirname, resolve } from 'node:path';
import { ConfigError, SquashError } from '@squash/core';
import { datasetFingerprint } from '@squash/datasets';
import type { PathSegment } from './locate.js';
import type { ReadExperiment } from './types.js';

/** Where a dataset `path` is relative to: the experiment file's directory (the working directory for text without a file). */
export const experimentBaseDir = (file: string | undefined): string =>
  file === undefined || file === '<input>' ? process.cwd() : dirname(resolve(file));

/**
 * Hashes the files a dataset's `path` names when the experiment is read, so ids can follow their
 * content instead of where they lie (the same files elsewhere reuse the cache; edited files do
 * not). A path that cannot be read is a ConfigError at `dataset.path`, saying why.
 */
export function resolveDatasetFiles(
  w: ReadExperiment,
  experimentFile: string,
  at: (path: PathSegment[], key?: string) => ConfigError['location'],
): { written: ReadExperiment; errors: ConfigError[] } {
  try {
    const fp = datasetFingerprint(w.dataset, experimentBaseDir(experimentFile));
    if (!fp) return { written: w, errors: [] };
    return {
      written: { ...w, dataset: { ...w.dataset, content: { sha256: fp.sha256, files: fp.files, bytes: fp.bytes } } },
      errors: [],
    };
  } catch (e) {
    if (!(e instanceof SquashError)) throw e;
    return {
      written: w,
      errors: [new ConfigError(e.message, { location: at(['dataset', 'path']), hint: e.hint })],
    };
  }
}
