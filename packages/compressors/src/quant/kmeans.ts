import type { QuantizedTensor } from '../quantized_tensor.js';
import { checkBits } from '../rounding.js';
import { quantizeChannels, type EncodeRun, type QuantizeOptions } from './driver.js';
import { sortedCopy } from './sort.js';

/** Lloyd iterations (assignment steps) before we stop even if assignments still change. */
export const KMEANS_MAX_ITERATIONS = 100;

/** First index in x[lo, hi) with x[i] > v, or hi. x ascending. */
function upperBound(x: Float32Array, v: number, lo: number, hi: number): number {
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (x[m] > v) hi = m;
    else lo = m + 1;
  }
  return lo;
}

/**
 * `upperBound` searching outwards from `guess` (exponential search): boundaries move by a few
 * values per Lloyd iteration, so this takes ~3 probes where a plain binary search takes log2 n.
 */
function upperBoundNear(x: Float32Array, v: number, lo: number, hi: number, guess: number): number {
  const g = Math.min(Math.max(guess, lo), hi);
  let step = 1;
  if (g > lo && x[g - 1] > v) {
    // The answer is at most g − 1; walk left while still above v.
    let r = g - 1;
    while (r - step >= lo && x[r - step] > v) {
      r -= step;
      step *= 2;
    }
    return upperBound(x, v, Math.max(lo, r - step + 1), r);
  }
  // Everything before g is <= v; walk right.
  let l = g;
  while (l + step <= hi && x[l + step - 1] <= v) {
    l += step;
    step *= 2;
  }
  return upperBound(x, v, l, Math.min(hi, l + step));
}

/**
 * Cluster j's members are x[b[j] .. b[j + 1]): the values v with mid(j−1) < v ≤ mid(j), where
 * mid(j) = (c[j] + c[j + 1]) / 2 — nearest centroid, ties to the smaller one. Centroids stay
 * ascending under Lloyd in 1-D, so every cluster is one run of the sorted values. `prev` holds
 * the previous iteration's boundaries, where the search starts.
 */
function boundaries(x: Float32Array, c: Float64Array, b: Int32Array, prev: Int32Array): void {
  const k = c.length;
  b[0] = 0;
  b[k] = x.length;
  for (let j = 1; j < k; j++) b[j] = upperBoundNear(x, (c[j - 1] + c[j]) / 2, b[j - 1], x.length, prev[j]);
}

function same(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * 1-D k-means on sorted values (Lloyd), k ≥ 1, returning ascending float32 centroids.
 * Linear initialisation: k points evenly spaced over [min, max], which Deep Compression found
 * best because it keeps centroids on the rare large weights. Each iteration is O(k log n) or
 * better: the assignment is k − 1 searches for the midpoints and the means come from prefix sums.
 * Once the assignment stops changing, the means are recomputed by direct summation (prefix-sum
 * differences carry cancellation error) and we iterate on with those until the assignment is
 * stable again, so at convergence every centroid is exactly fround(Σ members / count), summed in
 * ascending order. Empty clusters keep their previous centroid. After KMEANS_MAX_ITERATIONS
 * assignments we stop where we are: the codes then use the last centroids (nearest centroid
 * still), which are the means of the previous assignment. On real-sized layers that is the usual
 * ending — 1-D Lloyd creeps: Gaussian weights with k = 32 had not converged after 100 iterations
 * for 4M weights, nor for 41 of 50 channels of 8,000 — and the last moves are far below a step.
 */
export function lloyd1d(x: Float32Array, k: number): Float64Array {
  const m = x.length;
  const lo = x[0];
  const hi = x[m - 1];
  const c = new Float64Array(k);
  for (let j = 0; j < k; j++) c[j] = k === 1 ? lo : Math.fround(lo + ((hi - lo) * j) / (k - 1));
  if (k > 1) c[k - 1] = hi;
  const prefix = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) prefix[i + 1] = prefix[i] + x[i];
  let b = new Int32Array(k + 1);
  let prev = new Int32Array(k + 1);
  let direct = false;
  // A first guess for the searches: evenly spaced.
  for (let j = 0; j <= k; j++) prev[j] = Math.round((j * m) / k);
  for (let it = 0; it < KMEANS_MAX_ITERATIONS; it++) {
    boundaries(x, c, b, prev);
    if (it > 0 && same(b, prev)) {
      if (direct) break;
      direct = true;
    }
    for (let j = 0; j < k; j++) {
      const from = b[j];
      const to = b[j + 1];
      if (to === from) continue;
      let s: number;
      if (direct) {
        s = 0;
        for (let i = from; i < to; i++) s += x[i];
      } else s = prefix[to] - prefix[from];
      // The clamp only guards against prefix-sum error pushing a mean out of its run.
      c[j] = Math.min(Math.max(Math.fround(s / (to - from)), x[from]), x[to - 1]) + 0;
    }
    const t = prev;
    prev = b;
    b = t;
  }
  return c;
}

/**
 * Weight sharing by k-means (Deep Compression, Han et al. 2016, §3), b bits (1..16): the kept
 * weights of each channel are clustered into k = 2^b centroids (`lloyd1d`), every weight is
 * replaced by its nearest centroid. params: the centroids, `levels` per channel.
 *
 * If a channel has at most k distinct values, its codebook is exactly those values (ascending,
 * padded by repeating the largest), so quantizing the output again changes nothing.
 *
 * With a mask, symbol 0 is reserved for the value 0 — the pruned positions, and the filler
 * entries of the sparse format, need a zero symbol — and the kept weights are clustered into
 * 2^b − 1 centroids (symbols 1..2^b − 1). Without a mask, zeroCodes is the first centroid that is
 * exactly 0, which is usually none (−1).
 * Deterministic and exact: one sort, then Lloyd on the sorted values, no sampling.
 */
export function quantizeKmeans(values: Float32Array, shape: number[], opts: QuantizeOptions): QuantizedTensor {
  checkBits('kmeans', opts.bits, 1, 16);
  const levels = 2 ** opts.bits;
  const reserved = opts.mask ? 1 : 0;
  const k = levels - reserved;
  return quantizeChannels('kmeans', values, shape, opts, levels, (kept) => {
    const x = sortedCopy(kept);
    const c = distinctUpTo(x, k) ?? lloyd1d(x, k);
    const params = new Float64Array(levels);
    params.set(c, reserved);
    return { params, zeroCode: reserved ? 0 : params.indexOf(0), encode: nearestRun(c, x, reserved) };
  });
}

/**
 * Encodes weights to their nearest centroid (ties to the smaller, as in `lloyd1d`): the first j
 * with v <= mid(j). A binary search per weight mispredicts about every other branch (~100 ms for
 * 4M weights at k = 32); instead a table over `buckets` equal slices of [min, max] of the
 * clustered values gives, for the slice *below* v's, the cluster of its lower edge — a lower
 * bound for v's cluster even if the float bucket index is off by one — and a short, mostly
 * not-taken loop walks up from there (~15 ms). Values outside [min, max] (masked-out weights,
 * whose symbols the driver overwrites) clamp to the end buckets and still get a valid symbol.
 */
function nearestRun(c: Float64Array, x: Float32Array, reserved: number): EncodeRun {
  const k = c.length;
  const mids = new Float64Array(k);
  for (let j = 0; j < k - 1; j++) mids[j] = (c[j] + c[j + 1]) / 2;
  mids[k - 1] = Infinity; // a sentinel: the walk never passes the last centroid
  const lo = x.length ? x[0] : 0;
  const span = x.length ? x[x.length - 1] - lo : 0;
  const buckets = Math.min(1 << 20, Math.max(256, 16 * k));
  const perUnit = span > 0 ? buckets / span : 0;
  const table = new Uint16Array(buckets + 1);
  for (let b = 1, j = 0; b <= buckets; b++) {
    const edge = lo + (b - 1) / perUnit;
    while (edge > mids[j]) j++;
    table[b] = j;
  }
  return (values, codes, start, count, stride) => {
    const end = start + count * stride;
    for (let i = start; i < end; i += stride) {
      const v = values[i];
      let j = table[Math.min(Math.max(((v - lo) * perUnit) | 0, 0), buckets)];
      while (v > mids[j]) j++;
      codes[i] = j + reserved;
    }
  };
}

/** The distinct values of sorted x, padded to k by repeating the last, or undefined if more than k. */
function distinctUpTo(x: Float32Array, k: number): Float64Array | undefined {
  const c = new Float64Array(k);
  let d = 0;
  for (let i = 0; i < x.length; i++) {
    if (d > 0 && x[i] === c[d - 1]) continue;
    if (d === k) return undefined;
    c[d++] = x[i] + 0;
  }
  for (let j = Math.max(d, 1); j < k; j++) c[j] = c[j - 1];
  return c;
}
