// Bundles dist/index.js (after tsc) into dist/sqz.min.js — one minified ES module for a <script
// type="module"> or a CDN, with fflate inlined and @tensorflow/tfjs left to the page — and records
// its size in dist/bundle.json, the number the "< 10 KB min+gzip" goal is checked against.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rolldown, VERSION } from 'rolldown';

const dist = (name) => fileURLToPath(new URL(`../dist/${name}`, import.meta.url));

/**
 * The minified bundle of `entry` (a dist/ path) as a string. `browser` picks the packages' browser
 * builds (fflate's has no worker_threads); tfjs and its subpaths stay imports.
 */
export async function bundleCode(entry) {
  const build = await rolldown({
    input: dist(entry),
    platform: 'browser',
    external: [/^@tensorflow\/tfjs(\/|$)/],
    logLevel: 'warn',
  });
  try {
    const { output } = await build.generate({ format: 'esm', minify: true });
    return output[0].code;
  } finally {
    await build.close();
  }
}

/** Bytes, and bytes after gzip -9: what a server sends compressed. */
export function sizes(code) {
  const bytes = Buffer.from(code, 'utf8');
  return { bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

export const BUNDLER = `rolldown ${VERSION}`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const code = await bundleCode('index.js');
  writeFileSync(dist('sqz.min.js'), code);
  const info = { file: 'sqz.min.js', ...sizes(readFileSync(dist('sqz.min.js'), 'utf8')), bundler: BUNDLER };
  writeFileSync(dist('bundle.json'), `${JSON.stringify(info, null, 2)}\n`);
  console.log(`sqz: dist/sqz.min.js ${info.bytes} bytes, ${info.gzipBytes} min+gzip (${info.bundler})`);
}
