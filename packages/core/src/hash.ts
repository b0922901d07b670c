import { createHash } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Canonical JSON: object keys sorted, no whitespace, numbers in JavaScript's shortest round-trip
 * form, `undefined` members dropped. Two equal configs give byte-identical text, so their hash
 * identifies a trial across runs and machines.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(v: unknown, path: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: non-finite number at ${path}`);
      return Object.is(v, -0) ? '0' : JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => encode(x, `${path}[${i}]`)).join(',')}]`;
      const keys = Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort();
      return (
        '{' +
        keys.map((k) => `${JSON.stringify(k)}:${encode((v as Record<string, unknown>)[k], `${path}.${k}`)}`).join(',') +
        '}'
      );
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof v} at ${path}`);
  }
}

/** SHA-256 of bytes, hex (content checks of cached files). */
export function sha256Hex(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of the canonical JSON, hex; `length` trims it for ids. */
export function stableHash(value: unknown, length = 16): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}
