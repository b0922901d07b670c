import { ConfigError, type SquashErrorOptions } from '@squash/core';

/** A place in a model file: the file as the user wrote it and a JSON path inside model.json. */
export interface Where {
  file: string;
  path?: string;
}

export const at = (where: Where, path?: string): Where => ({ file: where.file, path });

export function locate(where: Where): SquashErrorOptions['location'] {
  return where.path ? { file: where.file, path: where.path } : { file: where.file };
}

/** A ConfigError located in the model file. */
export function fileConfigError(where: Where, message: string, hint?: string): ConfigError {
  return new ConfigError(message, { location: locate(where), hint });
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as a message quotes it. */
export const quote = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

export const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;
