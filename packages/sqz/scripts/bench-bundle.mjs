// The decoder's download size (`pnpm bench`): the bundle `build` wrote (dist/bundle.json), and the
// file-format part alone (@squash/sqz/format, bundled here the same way), against the goal of
// < 10 KB min+gzip with TensorFlow.js external. Sizes, not timings: they do not depend on the machine.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { BUNDLER, bundleCode, sizes } from './bundle.mjs';

const GOAL = 10 * 1024;
const info = JSON.parse(readFileSync(new URL('../dist/bundle.json', import.meta.url), 'utf8'));
const format = sizes(await bundleCode('format/index.js'));
const rows = [
  ['@squash/sqz (sqz.min.js)', info.bytes, info.gzipBytes],
  ['@squash/sqz/format alone', format.bytes, format.gzipBytes],
];
const cpus = os.cpus();
console.log(
  `\nsqz decoder bundle — cpu: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} cpus), node ${process.version}`,
);
console.log(
  `bundler: ${info.bundler} (this run: ${BUNDLER}); ESM, minified, @tensorflow/tfjs external, fflate inlined`,
);
const head = ['bundle', 'minified B', 'min+gzip B', 'goal < 10 KB'];
const body = rows.map(([name, bytes, gz]) => [name, String(bytes), String(gz), gz < GOAL ? 'ok' : 'OVER']);
const widths = head.map((_, c) => Math.max(...[head, ...body].map((r) => r[c].length)));
const line = (r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
console.log([line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n'));
