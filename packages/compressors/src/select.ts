/**
 * The k-th smallest element (0-based) of `a`, which is partially reordered. Hoare's quickselect
 * with a median-of-three pivot: O(n) on average, where V8's `TypedArray.prototype.sort` takes
 * ~170 ns per element at n = 4M on Node 20 (it is not a plain std::sort). If the range stops
 * shrinking (adversarial input), the remainder is sorted instead, bounding the worst case at
 * O(n log n); `budget` is the number of partition rounds before that (a parameter for tests).
 * `a` must not contain NaN.
 */
export function selectKth(a: Float32Array, k: number, budget = 4 * Math.ceil(Math.log2(a.length + 1)) + 16): number {
  if (!(k >= 0 && k < a.length)) throw new RangeError(`selectKth: k = ${k} outside [0, ${a.length})`);
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    if (budget-- === 0) {
      a.subarray(lo, hi + 1).sort();
      return a[k];
    }
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : Math.max(x, z)) : x < z ? x : Math.max(y, z);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo..j] <= pivot <= a[i..hi], and everything strictly between j and i equals pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
