import { dirname, resolve } from 'node:path';
import { ConfigError, SquashError } from '@squash/core';
import { readModelFile, type ModelSpec } from '@squash/trainer/specs';
import type { PathSegment } from './locate.js';
import type { ReadExperiment, WrittenExperiment } from './types.js';

/** `model: { path: … }` as written: a TensorFlow.js Layers model file. */
export interface WrittenModelFile {
  path: string;
  name?: string;
  init?: 'file' | 'random';
}

export const isModelFile = (m: unknown): m is WrittenModelFile =>
  typeof m === 'object' && m !== null && typeof (m as { path?: unknown }).path === 'string';

/** A name for a file model: what it says, else its directory's name (`models/residual-cnn/model.json` → residual-cnn). */
function defaultName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  const dir = parts.length > 1 ? parts[parts.length - 2]! : parts[0]!.replace(/\.json$/, '');
  return dir.replace(/[^A-Za-z0-9_.-]/g, '_') || 'model';
}

/**
 * Reads every model the experiment names by file (`model:` and `models:`), relative to the
 * experiment file, into its layers and content hash. A file that cannot be used is a ConfigError
 * at the experiment's `path` key, saying what is wrong inside the model file.
 */
export function resolveModelFiles(
  w: WrittenExperiment,
  experimentFile: string,
  at: (path: PathSegment[], key?: string) => ConfigError['location'],
): { written: ReadExperiment; errors: ConfigError[] } {
  const base = experimentFile === '<input>' ? process.cwd() : dirname(resolve(experimentFile));
  const errors: ConfigError[] = [];
  const read = (m: WrittenModelFile, path: PathSegment[]): ModelSpec | undefined => {
    // The schema holds train.epochs and iterations to at least 1.
    if (m.init === 'random' && w.train?.epochs === undefined && w.train?.iterations === undefined) {
      errors.push(
        new ConfigError('init: random starts from fresh weights, so the baseline must be trained', {
          location: at([...path, 'init']),
          hint: 'give train.epochs (or train.iterations), or drop init to use the weights in the file',
        }),
      );
      return undefined;
    }
    try {
      const f = readModelFile(resolve(base, m.path), { shownAs: m.path });
      return {
        ...f.spec,
        name: m.name ?? defaultName(m.path),
        source: { path: m.path, file: f.path, sha256: f.sha256, ...(m.init ? { init: m.init } : {}) },
      };
    } catch (e) {
      if (!(e instanceof SquashError)) throw e;
      const where = e.location?.path ? ` (at ${e.location.path})` : '';
      errors.push(
        new ConfigError(`model file ${m.path}: ${e.message}${where}`, {
          location: at([...path, 'path']),
          hint: e.hint,
        }),
      );
      return undefined;
    }
  };
  const model = isModelFile(w.model) ? read(w.model, ['model']) : w.model;
  const models = Object.fromEntries(
    Object.entries(w.models ?? {}).map(([name, m]) => [name, isModelFile(m) ? read(m, ['models', name]) : m]),
  );
  // With errors the caller stops here; the unread entries are never used.
  return {
    written: {
      ...w,
      model: (model ?? w.model) as string | ModelSpec,
      models: w.models ? (models as Record<string, ModelSpec>) : undefined,
    },
    errors,
  };
}
