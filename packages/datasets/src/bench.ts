/**
 * Dataset reading benchmark (`pnpm bench:data`, and the end of `pnpm bench`): 50,000 training and
 * 10,000 test images of 32×32×3 (CIFAR-10's size) are written in every format this build reads
 * (bench_formats.ts), then each is read into training-ready arrays (`loadDataset`: float32 in
 * [0, 1], labels) and compared with a plain `readFileSync` of the same files. Every measurement
 * runs in a process of its own, so its peak resident memory (maxRSS) is its own.
 *
 *   node packages/datasets/dist/bench.js [--train N] [--test N] [--formats idx,cifar]
 *
 * The files were just written, so they are in the page cache: this measures decoding, not the disk.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_FORMATS, type BenchImages } from './bench_formats.js';
import { type DatasetSpec, datasetRegistry, loadDataset } from './index.js';

const MB = 1024 * 1024;
const SHAPE = { h: 32, w: 32, c: 3 };

interface Measured {
  seconds: number;
  /** Peak resident set of the process, bytes. */
  maxRss: number;
  rssBefore: number;
  rssAfter: number;
  arrayBuffersBefore: number;
  arrayBuffersAfter: number;
  /** Bytes of the arrays produced (file buffers, or the float32 images and labels). */
  held: number;
}

/** A child: reads the files plainly (`arg`: a JSON file listing them) or loads the dataset (`arg`: its spec), then prints what it measured as JSON. */
async function child(mode: 'read' | 'load', arg: string, baseDir: string): Promise<void> {
  const before = process.memoryUsage();
  const t0 = performance.now();
  let held = 0;
  if (mode === 'read') {
    // The list comes in a file: an image folder's 60,000 paths would not fit on a command line.
    const buffers = (JSON.parse(readFileSync(arg, 'utf8')) as string[]).map((f) => readFileSync(f));
    held = buffers.reduce((a, b) => a + b.length, 0);
  } else {
    const ds = await loadDataset(JSON.parse(arg) as DatasetSpec, { baseDir });
    held = ds.train.x.byteLength + ds.test.x.byteLength + ds.train.y.byteLength + ds.test.y.byteLength;
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = process.memoryUsage();
  const out: Measured = {
    seconds,
    maxRss: process.resourceUsage().maxRSS * 1024,
    rssBefore: before.rss,
    rssAfter: after.rss,
    arrayBuffersBefore: before.arrayBuffers,
    arrayBuffersAfter: after.arrayBuffers,
    held,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function measure(mode: 'read' | 'load', arg: string, baseDir: string): Measured | { error: string } {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, arg, baseDir], {
    encoding: 'utf8',
    maxBuffer: 16 * MB,
  });
  if (r.status !== 0) return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n')[0]! };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measured;
}

/** Deterministic images: smooth per-class patterns plus noise, so compressed formats compress like photos, not zeros. */
function images(count: number, seed: number): BenchImages {
  const { h, w, c } = SHAPE;
  const pixels = new Uint8Array(count * h * w * c);
  const labels = new Uint8Array(count);
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    const o = i * h * w * c;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          pixels[o + (y * w + x) * c + k] = (label * 23 + x * 4 + y * (k + 1) * 3 + (next() & 31)) & 255;
  }
  return { count, ...SHAPE, pixels, labels };
}

function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main(): Promise<void> {
  const nTrain = Number(arg('--train') ?? 50_000);
  const nTest = Number(arg('--test') ?? 10_000);
  const only = arg('--formats')?.split(',');
  const cpus = os.cpus();
  const load = os.loadavg();
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} cpus), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GB, ${os.platform()} ${os.release()}, node ${process.version}`,
  );
  console.log(`load average: ${load.map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min)`);
  if (load[0]! > 0.5)
    console.log(
      'WARNING: the 1-minute load is above 0.5: other work shares the machine, so these times are not figures.',
    );
  console.log(
    `data: ${nTrain.toLocaleString('en-US')} train + ${nTest.toLocaleString('en-US')} test images of ${SHAPE.h}×${SHAPE.w}×${SHAPE.c}, uint8 on disk, float32 in memory; files in the page cache (just written)\n`,
  );
  const train = images(nTrain, 1);
  const test = images(nTest, 2);
  const dir = mkdtempSync(join(os.tmpdir(), 'squash-bench-data-'));
  const rows: string[][] = [];
  const skipped: string[] = [];
  const notes: string[] = [];
  try {
    for (const format of BENCH_FORMATS) {
      if (only && !only.includes(format.kind)) continue;
      if (!datasetRegistry.has(format.kind)) {
        skipped.push(format.kind);
        continue;
      }
      const tw = performance.now();
      const { spec, files } = format.write(dir, train, test);
      const writeSeconds = (performance.now() - tw) / 1000;
      const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
      if (format.note) notes.push(`${format.kind}: ${format.note}`);
      const list = join(dir, `${format.kind}.files.json`);
      writeFileSync(list, JSON.stringify(files));
      const plain = measure('read', list, dir);
      for (const [label, s] of [
        [format.kind, spec],
        ...(format.kind === 'idx'
          ? [[`${format.kind} + normalize: per-channel`, { ...spec, normalize: 'per-channel' }]]
          : []),
      ] as Array<[string, DatasetSpec]>) {
        const loaded = measure('load', JSON.stringify(s), dir);
        if ('error' in loaded || 'error' in plain) {
          rows.push([
            label,
            (bytes / MB).toFixed(0),
            'error',
            'error' in loaded ? loaded.error : (plain as { error: string }).error,
          ]);
          continue;
        }
        rows.push([
          label,
          (bytes / MB).toFixed(0),
          files.length.toLocaleString('en-US'),
          plain.seconds.toFixed(3),
          (bytes / MB / plain.seconds).toFixed(0),
          loaded.seconds.toFixed(3),
          (bytes / MB / loaded.seconds).toFixed(0),
          `${(loaded.seconds / plain.seconds).toFixed(1)}×`,
          (plain.maxRss / MB).toFixed(0),
          (loaded.maxRss / MB).toFixed(0),
          ((loaded.arrayBuffersAfter - loaded.arrayBuffersBefore) / MB).toFixed(0),
          (loaded.held / MB).toFixed(0),
          writeSeconds.toFixed(1),
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    table(
      [
        'format',
        'MB',
        'files',
        'read s',
        'read MB/s',
        'load s',
        'load MB/s',
        '× read',
        'read peak MB',
        'load peak MB',
        'load +arrayBuffers MB',
        'arrays MB',
        'write s',
      ],
      rows,
    ),
  );
  console.log(
    '\nread: readFileSync of the same files; load: loadDataset into training-ready arrays; peak: the process maxRSS (node itself ~40 MB); MB/s: file bytes per second.',
  );
  for (const n of notes) console.log(`note: ${n}`);
  if (skipped.length) console.log(`not in this build (no reader registered): ${skipped.join(', ')}`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'read' | 'load', process.argv[4]!, process.argv[5]!);
} else {
  await main();
}
