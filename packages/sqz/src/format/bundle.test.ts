/**
 * dist/sqz.min.js, as `build` writes it (turbo builds before testing): its recorded size is its
 * real size, it imports nothing but TensorFlow.js, it decodes like the sources, and it stays under
 * the budget of 10 KB min+gzip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { VERSION } from 'rolldown';
import { describe, expect, it } from 'vitest';
import { v4 } from './__tests__/hand_built.js';
import { readSqz } from './index.js';

const dist = new URL('../../dist/', import.meta.url);
const built = existsSync(new URL('sqz.min.js', dist));

describe.skipIf(!built)('dist/sqz.min.js (run `npm run build` in packages/sqz first)', () => {
  const code = built ? readFileSync(new URL('sqz.min.js', dist)) : Buffer.alloc(0);

  it('bundle.json records its size and the bundler', () => {
    const info = JSON.parse(readFileSync(new URL('bundle.json', dist), 'utf8'));
    expect(info).toEqual({
      file: 'sqz.min.js',
      bytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      bundler: `rolldown ${VERSION}`,
    });
    expect(info.gzipBytes).toBeLessThan(10 * 1024);
  });

  it('imports only @tensorflow/tfjs: fflate and everything else is inside', () => {
    const text = code.toString('utf8');
    const specifiers = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'`]([^"'`]+)["'`]/g)].map((m) => m[1]);
    for (const s of specifiers) expect(s, s).toMatch(/^@tensorflow\/tfjs(\/|$)/);
    expect(text).not.toMatch(/\brequire\(|node:/);
  });

  it('decodes a file exactly like the sources', async () => {
    const bundle = (await import(new URL('sqz.min.js', dist).href)) as typeof import('./index.js');
    expect(bundle.readSqz(v4)).toEqual(readSqz(v4));
    const bad = v4.slice();
    bad[20] ^= 1;
    expect(() => bundle.readSqz(bad)).toThrow(bundle.SqzError);
  });
});
