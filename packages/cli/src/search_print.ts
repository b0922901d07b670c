import { layerMetricRows, Metric } from '@squash/contract';
import { renderTable, type SearchSection, type Table } from '@squash/reporter';
import type { CandidateResult, SearchOutcome } from '@squash/runner';
import { outputWidth } from './io.js';
import type { TableFormat } from './output.js';

/** Candidate rows shown on a terminal: the front and the best feasible ones first. */
const SHOWN = 15;

const pct = (v: number | undefined) => (v === undefined ? '' : `${(100 * v).toFixed(2)} %`);

function candidateRow(c: CandidateResult): Record<string, string | number> {
  const m = c.run?.metrics ?? {};
  return {
    n: c.index,
    trial: c.trialId.slice(0, 12),
    status: c.run?.status ?? 'not run',
    val_accuracy: m[Metric.valAccuracy] ?? '',
    artifact_bytes: m[Metric.artifactBytes] ?? '',
    // Each constraint's own shortfall, in its units.
    shortfall: c.feasible
      ? 0
      : Number.isFinite(c.miss)
        ? c.shortfalls.map((x) => Number(x.toPrecision(4))).join(', ')
        : '—',
    feasible: c.feasible ? 'yes' : 'NO',
    front: c.front ? '*' : '',
  };
}

/** The chosen candidate (or nearest miss) in words, its test accuracy reported here, once. */
function verdict(o: SearchOutcome): string {
  const c = o.best ?? o.bestEffort;
  if (!c?.run) return `no candidate finished: nothing to choose`;
  const m = c.run.metrics;
  const what = `trial #${c.index} ${c.trialId.slice(0, 12)}: ${m[Metric.artifactBytes]} bytes, validation accuracy ${pct(m[Metric.valAccuracy])}, test accuracy ${pct(m[Metric.accuracy])}`;
  const file = c.run.artifacts.model?.path;
  const where = file ? `\n  model: ${file}${o.kept ? `, kept as ${o.kept}` : ''}` : '';
  if (o.best) return `best feasible: ${what}${where}`;
  const by = c.shortfalls.map((s, i) => `${o.constraints[i]} misses by ${Number(s.toPrecision(4))}`).join('; ');
  return `no candidate meets the constraints; best effort: ${what}\n  ${by}${where}`;
}

/** What a search looked for, on what baseline, and what it chose. */
export function searchHeader(o: SearchOutcome): string {
  const baseline = Object.entries(o.baseline)
    .map(([k, v]) => `${k} ${Number(v.toPrecision(6))}`)
    .join(', ');
  const seconds = o.seconds === undefined ? '' : `, ${o.seconds.toFixed(0)} s`;
  return [
    `search '${o.search}' (${o.strategy}, ${o.candidates.length} trials${seconds}): ${o.objective}` +
      `${o.constraints.length ? ` subject to ${o.constraints.join(' and ')}` : ''}`,
    `baseline (validation): ${baseline}`,
    verdict(o),
  ].join('\n');
}

export function searchTables(o: SearchOutcome): Table[] {
  const rows = o.candidates
    .slice()
    .sort(
      (a, b) =>
        Number(b.feasible) - Number(a.feasible) ||
        (a.feasible ? a.score! - b.score! : a.miss - b.miss) ||
        a.index - b.index,
    )
    .map(candidateRow);
  const tables: Table[] = [
    {
      title: `candidates, best first (* = on the front of objective vs shortfall; accuracy on validation)`,
      columns: [
        { key: 'n', title: '#', align: 'right' },
        { key: 'trial', title: 'trial', align: 'left' },
        { key: 'status', title: 'status', align: 'left' },
        { key: 'val_accuracy', title: 'val accuracy', align: 'right' },
        { key: 'artifact_bytes', title: 'artifact bytes', align: 'right' },
        { key: 'shortfall', title: 'shortfall', align: 'right' },
        { key: 'feasible', title: 'feasible', align: 'left' },
        { key: 'front', title: 'front', align: 'left' },
      ],
      rows,
    },
  ];
  const chosen = (o.best ?? o.bestEffort)?.run;
  if (chosen)
    tables.push({
      title: `chosen model's layers (${o.best ? 'best feasible' : 'best effort'})`,
      columns: [
        { key: 'tensor', title: 'tensor', align: 'left' },
        { key: 'kept_fraction', title: 'kept', align: 'right' },
        { key: 'bits', title: 'bits', align: 'right' },
        { key: 'index_bits', title: 'index bits', align: 'right' },
        { key: 'artifact_bytes', title: 'bytes', align: 'right' },
        { key: 'size_fraction', title: 'size / float32', align: 'right' },
      ],
      rows: layerMetricRows(chosen.metrics),
    });
  return tables;
}

export function renderSearchOutcome(o: SearchOutcome, format: TableFormat): string {
  const fmt = format === 'json' ? 'terminal' : format;
  const tables = searchTables(o).map((t, i) => {
    const limited = i === 0 && (fmt === 'terminal' || fmt === 'markdown') ? { ...t, rows: t.rows.slice(0, SHOWN) } : t;
    return renderTable(limited, fmt, outputWidth());
  });
  return [searchHeader(o), ...tables].join('\n');
}

/** `--json`: one line per search. */
export function searchOutcomeJson(o: SearchOutcome): Record<string, unknown> {
  const pick = (c: CandidateResult | undefined) =>
    c && { index: c.index, trialId: c.trialId, runId: c.run?.id, metrics: c.run?.metrics, shortfalls: c.shortfalls };
  return {
    type: 'search-result',
    search: o.search,
    strategy: o.strategy,
    trials: o.candidates.length,
    seconds: o.seconds,
    baseline: o.baseline,
    best: pick(o.best),
    bestEffort: pick(o.bestEffort),
  };
}

/** The search as the HTML report draws it: candidates on validation accuracy vs bytes, the bound, the tables. */
export function searchSection(o: SearchOutcome): SearchSection {
  const chosen = o.best ?? o.bestEffort;
  const points = o.candidates.flatMap((c) => {
    const m = c.run?.metrics ?? {};
    const bytes = m[Metric.artifactBytes];
    const accuracy = m[Metric.valAccuracy];
    if (bytes === undefined || accuracy === undefined) return [];
    const tip = `#${c.index} ${c.trialId.slice(0, 12)}: ${bytes} bytes, validation ${pct(accuracy)}${c.feasible ? '' : ' (infeasible)'}`;
    return [{ bytes, accuracy, feasible: c.feasible, chosen: c === chosen, tip }];
  });
  const refs = [
    ...(o.baseline.accuracy !== undefined ? [{ y: o.baseline.accuracy, label: 'baseline (validation)' }] : []),
    ...o.bounds.filter((b) => b.metric === 'accuracy').map((b) => ({ y: b.value, label: b.text })),
  ];
  return { title: `Search '${o.search}'`, lines: searchHeader(o).split('\n'), points, refs, tables: searchTables(o) };
}
