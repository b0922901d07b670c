export type Domain = [number, number];

/** [min, max] of the finite values, or undefined when there are none. */
export function extent(values: Iterable<number>): Domain | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** The extent widened by `frac` of its span on each side (a single value gets ±5 % of itself, or ±1). */
export function padLinear([lo, hi]: Domain, frac = 0.06): Domain {
  const span = hi - lo || Math.abs(lo) * 0.1 || 2;
  return [lo - span * frac, hi + span * frac];
}

/** The positive extent widened by a factor on each side, for a log axis. */
export function padLog([lo, hi]: Domain, factor = 1.35): Domain {
  return lo === hi ? [lo / 2, hi * 2] : [lo / factor, hi * factor];
}

/** A 1, 2 or 5 × 10^k step giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 5): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

/** Multiples of a nice step inside the domain, cleaned of floating-point noise. */
export function linearTicks([lo, hi]: Domain, count = 5): { ticks: number[]; step: number } {
  const step = niceStep(hi - lo, count);
  const ticks: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++)
    ticks.push(Number((i * step).toPrecision(12)));
  return { ticks, step };
}

/** Powers of ten inside the domain; 2× and 5× multiples too when fewer than three decades show. */
export function logTicks([lo, hi]: Domain): number[] {
  const inside = (mults: number[]) => {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mults) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (v >= lo && v <= hi) out.push(v);
      }
    }
    return out;
  };
  const decades = inside([1]);
  if (decades.length >= 3) return decades;
  const more = inside([1, 2, 5]);
  return more.length >= 3 ? more : inside([1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

/** Maps a domain onto a pixel range, linearly or by log10. */
export function scale(domain: Domain, range: Domain, log = false): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const d0 = f(domain[0]);
  const span = f(domain[1]) - d0 || 1;
  return (v: number) => range[0] + ((f(v) - d0) / span) * (range[1] - range[0]);
}

/** Byte counts as B / kB / MB (SI, 1000-based, so decade ticks read 10 kB, 100 kB). */
export function formatBytes(v: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}

/** A tick value with as many decimals as the step needs. */
export function formatTick(v: number, step: number): string {
  const decimals = step > 0 && step < 1 ? Math.min(10, Math.ceil(-Math.log10(step) - 1e-9)) : 0;
  return v.toFixed(decimals);
}

/** Fractions as percent, with as many decimals as the step needs. */
export function formatPercent(v: number, step: number): string {
  return `${formatTick(v * 100, step * 100)}%`;
}
