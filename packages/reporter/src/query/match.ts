import { type AttributeName, asciiLower, type Expr, type Ident, likeToRegExp, type Literal } from '@squash/store';

/**
 * The in-memory consumer of the store's filter AST (the store compiles the same AST to SQL for
 * `searchRuns`): both give the same answer on every filter (query.test.ts checks it).
 */

/** What in-memory matching reads: a RunView fits, as do hand-built runs in tests. */
export interface MatchableRun {
  id: string;
  experiment: string;
  trialId: string;
  sweep: string;
  label: string;
  status: string;
  seed: number;
  isBaseline: boolean;
  backend?: string | null;
  startedAt?: string | null;
  endedAt?: string | null;
  attempt?: number | null;
  squashVersion?: string | null;
  params: Record<string, number | string | boolean>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

const ATTRIBUTE_FIELDS: Record<AttributeName, keyof MatchableRun> = {
  run_id: 'id',
  experiment: 'experiment',
  sweep: 'sweep',
  label: 'label',
  status: 'status',
  trial_id: 'trialId',
  seed: 'seed',
  backend: 'backend',
  started_at: 'startedAt',
  ended_at: 'endedAt',
  attempt: 'attempt',
  squash_version: 'squashVersion',
  is_baseline: 'isBaseline',
};

const own = (o: object, k: string) => Object.hasOwn(o, k);

/** An identifier's value on a run, or null when the run lacks it. */
export function valueOf(run: MatchableRun, ident: Pick<Ident, 'kind' | 'key'>): Literal | null {
  if (ident.kind === 'attributes')
    return (run[ATTRIBUTE_FIELDS[ident.key as AttributeName]] as Literal | null | undefined) ?? null;
  const bag = run[ident.kind] as Record<string, Literal>;
  return own(bag, ident.key) ? (bag[ident.key] ?? null) : null;
}

/** SQLite's order: numbers (booleans as 0/1) numerically, text by UTF-8 bytes (BINARY collation). */
function compare(a: Literal, b: Literal): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return Number(a) - Number(b);
}

const sameType = (a: Literal, b: Literal) => typeof a === typeof b;
const equal = (a: Literal, b: Literal) => sameType(a, b) && compare(a, b) === 0;

/**
 * Compiles a filter into a predicate with exactly the semantics of the store's SQL: conditions on a
 * missing key are false (negated forms too), values compare only with literals of their own type.
 */
export function compileMatcher(e: Expr): (run: MatchableRun) => boolean {
  switch (e.type) {
    case 'and': {
      const [l, r] = [compileMatcher(e.left), compileMatcher(e.right)];
      return (run) => l(run) && r(run);
    }
    case 'or': {
      const [l, r] = [compileMatcher(e.left), compileMatcher(e.right)];
      return (run) => l(run) || r(run);
    }
    case 'not': {
      const x = compileMatcher(e.expr);
      return (run) => !x(run);
    }
    case 'null':
      return (run) => (valueOf(run, e.ident) === null) !== e.negated;
    case 'cmp':
      return (run) => {
        const x = valueOf(run, e.ident);
        if (x === null) return false;
        if (e.op === '!=') return !equal(x, e.value);
        if (!sameType(x, e.value)) return false;
        const c = compare(x, e.value);
        return e.op === '=' ? c === 0 : e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
      };
    case 'in':
      return (run) => {
        const x = valueOf(run, e.ident);
        return x !== null && e.values.some((v) => equal(x, v)) !== e.negated;
      };
    case 'like': {
      const re = likeToRegExp(e.pattern, e.caseInsensitive);
      return (run) => {
        const x = valueOf(run, e.ident);
        if (x === null) return false;
        return (typeof x === 'string' && re.test(e.caseInsensitive ? asciiLower(x) : x)) !== e.negated;
      };
    }
  }
}

/** Whether one run matches a filter (compile once with `compileMatcher` for many runs). */
export function matchRun(e: Expr, run: MatchableRun): boolean {
  return compileMatcher(e)(run);
}
