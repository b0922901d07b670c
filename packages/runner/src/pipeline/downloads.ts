import { gzipSync } from 'node:zlib';
import type * as tf from '@tensorflow/tfjs';
import { tfjsModelFiles, type TfjsFile, type TfjsFormat } from '@squash/trainer';

/** What a browser downloads for a model in stock TensorFlow.js form (see the `tfjs_*` metrics). */
export interface DownloadSizes {
  tfjs: number;
  tfjsUint8: number;
  tfjsGzip: number;
  tfjsUint8Gzip: number;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Bytes of the files, and of each gzipped at level 9 (as a web server compressing them sends them). */
function sizes(files: readonly TfjsFile[]): { bytes: number; gzip: number } {
  return {
    bytes: sum(files.map((f) => f.bytes.length)),
    gzip: sum(files.map((f) => gzipSync(f.bytes, { level: 9 }).length)),
  };
}

/**
 * The model written, in memory, by the same writer `squash export` uses: float32 tfjs and
 * tfjs-uint8 (model.json + shards), plain and gzipped.
 */
export async function downloadSizes(model: tf.LayersModel): Promise<DownloadSizes> {
  const of = async (format: TfjsFormat) => sizes((await tfjsModelFiles(model, format)).files);
  const [f32, u8] = [await of('tfjs'), await of('tfjs-uint8')];
  return { tfjs: f32.bytes, tfjsUint8: u8.bytes, tfjsGzip: f32.gzip, tfjsUint8Gzip: u8.gzip };
}
