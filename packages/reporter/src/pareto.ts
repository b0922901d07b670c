export interface ParetoPoint {
  id: string;
  accuracy: number;
  bytes: number;
}

/**
 * Ids of the points no other point dominates: higher accuracy and fewer bytes are better, and `p`
 * dominates `q` when it is at least as good on both and strictly better on one. Exact duplicates
 * (same accuracy, same bytes) do not dominate each other, so all of them are on the front. Points
 * with a non-finite accuracy or byte count are ignored. O(n log n); the result does not depend on
 * input order.
 */
export function paretoFront(points: ReadonlyArray<ParetoPoint>): Set<string> {
  const valid = prefilter(points.filter((p) => Number.isFinite(p.accuracy) && Number.isFinite(p.bytes)));
  valid.sort((a, b) => a.bytes - b.bytes || b.accuracy - a.accuracy || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const front = new Set<string>();
  let best = -Infinity;
  let last: ParetoPoint | undefined;
  for (const p of valid) {
    if (p.accuracy > best) {
      front.add(p.id);
      best = p.accuracy;
      last = p;
    } else if (last && p.accuracy === last.accuracy && p.bytes === last.bytes) {
      front.add(p.id);
    }
  }
  return front;
}

const BINS = 1024;

/**
 * Drops, in O(n), points certainly dominated, so only a few are sorted: points are binned by
 * bytes (bin i holds strictly fewer bytes than bin i + 1), and a point is dominated when an
 * earlier bin has a point at least as accurate (strictly fewer bytes, accuracy ≥).
 */
function prefilter(points: ParetoPoint[]): ParetoPoint[] {
  if (points.length < 4 * BINS) return points;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    if (p.bytes < lo) lo = p.bytes;
    if (p.bytes > hi) hi = p.bytes;
  }
  if (!(hi > lo)) return points;
  const width = (hi - lo) / BINS;
  const bin = (b: number) => Math.min(BINS - 1, Math.floor((b - lo) / width));
  const best = new Float64Array(BINS).fill(-Infinity);
  for (const p of points) {
    const i = bin(p.bytes);
    if (p.accuracy > best[i]!) best[i] = p.accuracy;
  }
  // before[i]: the best accuracy in bins < i (all of them strictly fewer bytes than bin i).
  const before = new Float64Array(BINS);
  before[0] = -Infinity;
  for (let i = 1; i < BINS; i++) before[i] = Math.max(before[i - 1]!, best[i - 1]!);
  return points.filter((p) => p.accuracy > before[bin(p.bytes)]!);
}

/** The front's points ordered by bytes (ascending): the staircase a plot draws. */
export function frontPoints<T extends ParetoPoint>(points: ReadonlyArray<T>, front: ReadonlySet<string> = paretoFront(points)): T[] {
  return points.filter((p) => front.has(p.id)).sort((a, b) => a.bytes - b.bytes || b.accuracy - a.accuracy || (a.id < b.id ? -1 : 1));
}
