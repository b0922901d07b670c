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
  const accuracy = Float64Array.from(points, (p) => p.accuracy);
  const bytes = Float64Array.from(points, (p) => p.bytes);
  const front = paretoFrontIndices(
    accuracy,
    bytes,
    points.map((_, i) => i),
  );
  return new Set([...front].map((i) => points[i]!.id));
}

/**
 * The same front over columns (a report's 100,000 run heads, without an object per run): the
 * indices in `among` whose (accuracy[i], bytes[i]) no other index in `among` dominates.
 */
export function paretoFrontIndices(
  accuracy: ArrayLike<number>,
  bytes: ArrayLike<number>,
  among: readonly number[],
): Set<number> {
  const valid = prefilter(
    accuracy,
    bytes,
    among.filter((i) => Number.isFinite(accuracy[i]) && Number.isFinite(bytes[i])),
  );
  valid.sort((a, b) => bytes[a]! - bytes[b]! || accuracy[b]! - accuracy[a]! || a - b);
  const front = new Set<number>();
  let best = -Infinity;
  let last = -1;
  for (const i of valid) {
    if (accuracy[i]! > best) {
      front.add(i);
      best = accuracy[i]!;
      last = i;
    } else if (last >= 0 && accuracy[i] === accuracy[last] && bytes[i] === bytes[last]) {
      front.add(i);
    }
  }
  return front;
}

/** A configuration on the front: its mean accuracy and bytes over its runs (seeds), and those runs. */
export interface FrontConfig {
  accuracy: number;
  bytes: number;
  runs: number[];
}

/**
 * The front over configurations rather than runs: the runs of `among` with the same `config[i]`
 * (its seeds) are one point, at their mean accuracy and mean bytes (runs with a non-finite value
 * left out). Returns the configurations on the front, ordered by bytes. With one run per
 * configuration this is `paretoFrontIndices`, one run per point.
 */
export function configFront(
  accuracy: ArrayLike<number>,
  bytes: ArrayLike<number>,
  config: ArrayLike<number>,
  among: readonly number[],
): FrontConfig[] {
  const groups = new Map<number, FrontConfig>();
  for (const i of among) {
    if (!Number.isFinite(accuracy[i]) || !Number.isFinite(bytes[i])) continue;
    const g = groups.get(config[i]!);
    if (g) {
      g.accuracy += accuracy[i]!;
      g.bytes += bytes[i]!;
      g.runs.push(i);
    } else groups.set(config[i]!, { accuracy: accuracy[i]!, bytes: bytes[i]!, runs: [i] });
  }
  const points = [...groups.values()];
  for (const p of points) {
    p.accuracy /= p.runs.length;
    p.bytes /= p.runs.length;
  }
  const front = paretoFrontIndices(
    Float64Array.from(points, (p) => p.accuracy),
    Float64Array.from(points, (p) => p.bytes),
    points.map((_, k) => k),
  );
  return [...front].map((k) => points[k]!).sort((a, b) => a.bytes - b.bytes || b.accuracy - a.accuracy);
}

/** The indices of every run of a front configuration. */
export function frontRuns(front: readonly FrontConfig[]): Set<number> {
  const out = new Set<number>();
  for (const c of front) for (const i of c.runs) out.add(i);
  return out;
}

const BINS = 1024;

/**
 * Drops, in O(n), points certainly dominated, so only a few are sorted: points are binned by
 * bytes (bin i holds strictly fewer bytes than bin i + 1), and a point is dominated when an
 * earlier bin has a point at least as accurate (strictly fewer bytes, accuracy ≥).
 */
function prefilter(accuracy: ArrayLike<number>, bytes: ArrayLike<number>, points: number[]): number[] {
  if (points.length < 4 * BINS) return points;
  let lo = Infinity;
  let hi = -Infinity;
  for (const i of points) {
    if (bytes[i]! < lo) lo = bytes[i]!;
    if (bytes[i]! > hi) hi = bytes[i]!;
  }
  if (!(hi > lo)) return points;
  const width = (hi - lo) / BINS;
  const bin = (b: number) => Math.min(BINS - 1, Math.floor((b - lo) / width));
  const best = new Float64Array(BINS).fill(-Infinity);
  for (const i of points) {
    const k = bin(bytes[i]!);
    if (accuracy[i]! > best[k]!) best[k] = accuracy[i]!;
  }
  // before[k]: the best accuracy in bins < k (all of them strictly fewer bytes than bin k).
  const before = new Float64Array(BINS);
  before[0] = -Infinity;
  for (let k = 1; k < BINS; k++) before[k] = Math.max(before[k - 1]!, best[k - 1]!);
  return points.filter((i) => accuracy[i]! > before[bin(bytes[i]!)]!);
}

/** The front's points ordered by bytes (ascending): the staircase a plot draws. */
export function frontPoints<T extends ParetoPoint>(
  points: ReadonlyArray<T>,
  front: ReadonlySet<string> = paretoFront(points),
): T[] {
  return points
    .filter((p) => front.has(p.id))
    .sort((a, b) => a.bytes - b.bytes || b.accuracy - a.accuracy || (a.id < b.id ? -1 : 1));
}
