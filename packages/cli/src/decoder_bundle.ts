import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The `@squash/sqz` decoder bundle a page loads beside a `.sqz`: its file and its size. */
export interface DecoderBundle {
  /** Path of `sqz.min.js` (the bundle, tfjs external). */
  file: string;
  bytes: number;
  /** Minified + gzip: what the page downloads. */
  gzipBytes: number;
}

const require = createRequire(import.meta.url);

/**
 * The installed bundle, as the `@squash/sqz` package describes it in `bundle.json` (written by its
 * build); undefined when the package has none, so sizes say "—" rather than guess.
 */
export function decoderBundle(): DecoderBundle | undefined {
  try {
    const info = JSON.parse(readFileSync(require.resolve('@squash/sqz/bundle.json'), 'utf8')) as {
      bytes?: unknown;
      gzipBytes?: unknown;
    };
    if (typeof info.bytes !== 'number' || typeof info.gzipBytes !== 'number') return undefined;
    return { file: require.resolve('@squash/sqz/sqz.min.js'), bytes: info.bytes, gzipBytes: info.gzipBytes };
  } catch {
    return undefined;
  }
}
