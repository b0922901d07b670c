import { Metric } from '@squash/contract';
import { didYouMean } from '@squash/core';

/**
 * A search's constraints and objective name run-level metrics. Accuracy and loss are read on the
 * validation split (`val_accuracy`, `val_loss`): a search never looks at test data. `baseline.<m>`
 * is the baseline's value of the same (validation) metric. Each metric's possible range lets a
 * constraint that can never hold be refused before anything runs.
 */
export const SEARCH_METRICS = {
  accuracy: { key: Metric.valAccuracy, min: 0, max: 1 },
  loss: { key: Metric.valLoss, min: 0, max: Infinity },
  artifact_bytes: { key: Metric.artifactBytes, min: 1, max: Infinity },
  compression_ratio: { key: Metric.compressionRatio, min: 0, max: Infinity },
  weights_kept_fraction: { key: Metric.weightsKeptFraction, min: 0, max: 1 },
  params_kept: { key: Metric.paramsKept, min: 0, max: Infinity },
  params_kept_fraction: { key: Metric.paramsKeptFraction, min: 0, max: 1 },
  macs: { key: Metric.macs, min: 0, max: Infinity },
  macs_kept_fraction: { key: Metric.macsKeptFraction, min: 0, max: 1 },
  size_huffman_bytes: { key: Metric.sizeHuffmanBytes, min: 1, max: Infinity },
  tfjs_gzip_bytes: { key: Metric.tfjsGzipBytes, min: 1, max: Infinity },
} as const;
export type SearchMetric = keyof typeof SEARCH_METRICS;
export const SEARCH_METRIC_NAMES = Object.keys(SEARCH_METRICS) as SearchMetric[];

/** A bad constraint or objective: `column` is 1-based in the expression's text. */
export class ExpressionError extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

/** `c + Σ coef·value`: a linear expression over trial and baseline metrics. */
export interface Linear {
  constant: number;
  terms: Array<{ metric: SearchMetric; baseline: boolean; coef: number }>;
}

export type ConstraintOp = '<=' | '>=' | '<' | '>';

/** `lhs op rhs`, kept as `lhs − rhs op 0`. */
export interface Constraint {
  text: string;
  op: ConstraintOp;
  /** lhs − rhs. */
  diff: Linear;
}

/** Metric values by search-metric name (validation accuracy under `accuracy`). */
export type MetricValues = Partial<Record<SearchMetric, number>>;

type Tok =
  | { t: 'num'; v: number; col: number }
  | { t: 'name'; v: string; col: number }
  | { t: 'op'; v: string; col: number };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const col = i + 1;
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), col });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0], col });
      i += name[0].length;
      continue;
    }
    const op = /^(<=|>=|==|!=|[<>=+\-*/()])/.exec(src.slice(i));
    if (!op) throw new ExpressionError(col, `unexpected character '${c}'`);
    out.push({ t: 'op', v: op[0], col });
    i += op[0].length;
  }
  return out;
}

const scale = (e: Linear, k: number): Linear => ({
  constant: e.constant * k,
  terms: e.terms.map((t) => ({ ...t, coef: t.coef * k })),
});
const add = (a: Linear, b: Linear): Linear => ({ constant: a.constant + b.constant, terms: [...a.terms, ...b.terms] });
const isConstant = (e: Linear) => e.terms.length === 0;

const METRIC_HELP = `a metric (${SEARCH_METRIC_NAMES.join(', ')}), baseline.<metric> or a number`;

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}
  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }
  private end(): number {
    return this.src.length + 1;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t?.t === 'op' && t.v === v;
  }

  metricOf(name: string, col: number): { metric: SearchMetric; baseline: boolean } {
    const [head, tail] = name.split('.');
    const baseline = tail !== undefined;
    if (baseline && head !== 'baseline')
      throw new ExpressionError(col, `unknown name '${name}'; expected ${METRIC_HELP}`);
    const m = (baseline ? tail : head)!;
    if (!(m in SEARCH_METRICS)) {
      const near = didYouMean(m, SEARCH_METRIC_NAMES);
      throw new ExpressionError(
        baseline ? col + 'baseline.'.length : col,
        `unknown metric '${m}'${near ? `; did you mean '${near}'?` : ''}; expected one of ${SEARCH_METRIC_NAMES.join(', ')}`,
      );
    }
    return { metric: m as SearchMetric, baseline };
  }

  primary(): Linear {
    const t = this.peek();
    if (!t) throw new ExpressionError(this.end(), `expected ${METRIC_HELP}, got the end of the expression`);
    this.pos++;
    if (t.t === 'num') return { constant: t.v, terms: [] };
    if (t.t === 'name') return { constant: 0, terms: [{ ...this.metricOf(t.v, t.col), coef: 1 }] };
    if (t.v === '-') return scale(this.primary(), -1);
    if (t.v === '(') {
      const e = this.sum();
      const close = this.peek();
      if (!(close?.t === 'op' && close.v === ')'))
        throw new ExpressionError(close?.col ?? this.end(), `expected ')' to close the '(' at column ${t.col}`);
      this.pos++;
      return e;
    }
    throw new ExpressionError(t.col, `expected ${METRIC_HELP}, got '${t.v}'`);
  }

  product(): Linear {
    let e = this.primary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.peek()!;
      this.pos++;
      const rhs = this.primary();
      if (op.v === '*') {
        if (!isConstant(e) && !isConstant(rhs))
          throw new ExpressionError(
            op.col,
            'a metric may be multiplied by a number only (the expression must be linear)',
          );
        e = isConstant(e) ? scale(rhs, e.constant) : scale(e, rhs.constant);
      } else {
        if (!isConstant(rhs))
          throw new ExpressionError(op.col, 'division by a metric is not supported; divide by a number');
        if (rhs.constant === 0) throw new ExpressionError(op.col, 'division by zero');
        e = scale(e, 1 / rhs.constant);
      }
    }
    return e;
  }

  sum(): Linear {
    let e = this.product();
    while (this.isOp('+') || this.isOp('-')) {
      const minus = this.peek()!.v === '-';
      this.pos++;
      const rhs = this.product();
      e = add(e, minus ? scale(rhs, -1) : rhs);
    }
    return e;
  }

  constraint(): Constraint {
    const lhs = this.sum();
    const op = this.peek();
    if (op?.t !== 'op' || !['<=', '>=', '<', '>'].includes(op.v)) {
      const got = op ? `'${op.v}'` : 'the end of the expression';
      const hint = op?.v === '==' || op?.v === '=' ? ' (an equality cannot be searched for; give a bound)' : '';
      throw new ExpressionError(op?.col ?? this.end(), `expected a comparison (<=, >=, <, >), got ${got}${hint}`);
    }
    this.pos++;
    const rhs = this.sum();
    const rest = this.peek();
    if (rest) throw new ExpressionError(rest.col, `unexpected '${rest.v}' after the comparison's right side`);
    const diff = simplify(add(lhs, scale(rhs, -1)));
    if (!diff.terms.some((t) => !t.baseline))
      throw new ExpressionError(
        1,
        "a constraint must name a trial metric (e.g. 'accuracy'), not only numbers and baseline values",
      );
    return { text: this.src, op: op.v as ConstraintOp, diff };
  }
}

/** Like terms merged (and zero coefficients dropped), in a fixed order. */
function simplify(e: Linear): Linear {
  const by = new Map<string, Linear['terms'][number]>();
  for (const t of e.terms) {
    const k = `${t.baseline ? 'b' : 't'}:${t.metric}`;
    const kept = by.get(k);
    by.set(k, kept ? { ...kept, coef: kept.coef + t.coef } : { ...t });
  }
  return { constant: e.constant, terms: [...by.values()].filter((t) => t.coef !== 0) };
}

/**
 * `accuracy >= baseline.accuracy - 0.003`, `artifact_bytes <= 30000`: a linear comparison over
 * metric names, `baseline.<metric>` and numbers (+ − × ÷ by numbers, parentheses). Refuses one
 * that can never hold whatever the metrics' values (`accuracy >= 1.2`, `artifact_bytes < 0`).
 */
export function parseConstraint(src: string): Constraint {
  const c = new Parser(src, lex(src)).constraint();
  const { lo, hi } = bounds(c.diff);
  const never = c.op === '>=' ? hi < 0 : c.op === '>' ? hi <= 0 : c.op === '<=' ? lo > 0 : lo >= 0;
  if (never)
    throw new ExpressionError(
      1,
      `can never hold: ${c.diff.terms.map((t) => `${t.baseline ? 'baseline.' : ''}${t.metric} lies in [${SEARCH_METRICS[t.metric].min}, ${SEARCH_METRICS[t.metric].max}]`).join(', ')}`,
    );
  return c;
}

/** The range of a linear expression over every metric's possible values. */
function bounds(e: Linear): { lo: number; hi: number } {
  let lo = e.constant;
  let hi = e.constant;
  for (const t of e.terms) {
    const { min, max } = SEARCH_METRICS[t.metric];
    const a = t.coef * min;
    const b = t.coef * max;
    lo += Math.min(a, b);
    hi += Math.max(a, b);
  }
  return { lo, hi };
}

/** lhs − rhs for a trial, or undefined when a metric it names is missing. */
export function evaluateLinear(e: Linear, trial: MetricValues, baseline: MetricValues): number | undefined {
  let v = e.constant;
  for (const t of e.terms) {
    const x = (t.baseline ? baseline : trial)[t.metric];
    if (x === undefined || !Number.isFinite(x)) return undefined;
    v += t.coef * x;
  }
  return v;
}

/**
 * How far a trial is from meeting the constraint, in the constraint's own units: 0 when it holds
 * (strict comparisons at equality count as a shortfall of 0 but not met), Infinity when a metric is missing.
 */
export function shortfall(c: Constraint, trial: MetricValues, baseline: MetricValues): { met: boolean; by: number } {
  const d = evaluateLinear(c.diff, trial, baseline);
  if (d === undefined) return { met: false, by: Infinity };
  switch (c.op) {
    case '>=':
      return { met: d >= 0, by: Math.max(0, -d) };
    case '>':
      return { met: d > 0, by: Math.max(0, -d) };
    case '<=':
      return { met: d <= 0, by: Math.max(0, d) };
    case '<':
      return { met: d < 0, by: Math.max(0, d) };
  }
}

/** The trial metrics a constraint names (besides baseline values). */
export function metricsOf(c: Constraint): SearchMetric[] {
  return [...new Set(c.diff.terms.map((t) => t.metric))];
}
