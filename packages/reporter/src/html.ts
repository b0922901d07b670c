import { Metric, type Reference, type RunView } from '@squash/contract';
import { reportTable } from './comparison.js';
import { configIndices } from './configuration.js';
import { dataDescription } from './data.js';
import { downloadTable } from './downloads.js';
import { configFront, frontRuns } from './pareto.js';
import { referenceTable } from './reference.js';
import { escapeHtml as esc } from './html/escape.js';
import { accuracyVsParams, baselineRef, plotArrays, type Plot, type PlotInput } from './html/plots.js';
import { sensitivityPlots } from './html/sensitivity.js';
import { DEFAULT_MAX_TABLE_ROWS, failuresHtml, tableHtml } from './html/runs_table.js';
import { accuracyVsBytes, DEFAULT_MAX_POINTS, layerSizes, publishedPoints } from './html/sizes.js';
import { CSS } from './html/style.js';
import { formatPercent, formatTick } from './html/scale.js';
import { PALETTE, xyChart } from './html/svg.js';
import type { Table } from './table.js';

export interface HtmlOptions {
  /** Page heading; `Squash report: <experiment>` by default. */
  title?: string;
  /** Most points the accuracy-vs-size scatter draws (all Pareto-front runs are always drawn). Default 2000. */
  maxPoints?: number;
  /** Most table rows printed (Pareto-front rows first). Default 1000. */
  maxTableRows?: number;
  /** Shown under the heading when given (the page is otherwise a pure function of its input). */
  generatedAt?: string;
  /** The experiment file's `reference:` block: published numbers beside the measured ones, as on a terminal. */
  reference?: Reference;
  /** Bytes (min + gzip) of the `@squash/sqz` decoder bundle, for the `.sqz + decoder` sizes; unknown when absent. */
  decoderBytes?: number;
  /** The experiment's searches: what each chose, its candidates (the front plotted) and the chosen model's layers. */
  searches?: SearchSection[];
}

/** One search on the page, as its caller judged it (the reporter knows no constraints). */
export interface SearchSection {
  title: string;
  /** What it looked for and what it chose, one paragraph per line. */
  lines: string[];
  /** Candidates on validation accuracy vs artifact bytes. */
  points: Array<{ bytes: number; accuracy: number; feasible: boolean; chosen: boolean; tip: string }>;
  /** Horizontal lines: the baseline's validation accuracy, the constraint's bound. */
  refs: Array<{ y: number; label: string }>;
  tables: Table[];
}

function searchHtml(s: SearchSection, i: number): string {
  const series = (
    name: string,
    color: string,
    mark: 'dot' | 'ring',
    keep: (p: SearchSection['points'][number]) => boolean,
  ) => ({
    name,
    color,
    line: 'none' as const,
    mark,
    points: s.points.filter(keep).map((p) => ({ x: p.bytes, y: p.accuracy, tip: p.tip })),
  });
  const chart = s.points.length
    ? xyChart({
        id: `search-${i}`,
        title: 'Candidates: validation accuracy vs artifact bytes',
        x: { label: 'artifact bytes', log: true, format: formatTick },
        y: { label: 'validation accuracy', format: formatPercent },
        series: [
          series('feasible', PALETTE[4]!, 'dot', (p) => p.feasible),
          series('infeasible', PALETTE[2]!, 'ring', (p) => !p.feasible),
          series('chosen', PALETTE[0]!, 'ring', (p) => p.chosen),
        ].filter((x) => x.points.length),
        ref: s.refs,
      })
    : '';
  return [
    `<h2>${esc(s.title)}</h2>`,
    ...s.lines.map((l) => `<p class="summary">${esc(l)}</p>`),
    chart ? `<div class="plots"><figure class="card" data-plot="search-${i}">${chart}</figure></div>` : '',
    ...s.tables.map(
      (t) =>
        `${t.title ? `<h3>${esc(t.title)}</h3>` : ''}${tableHtml({ ...t, title: undefined }, new Map(), 'search')}`,
    ),
  ].join('\n');
}

/** What the plots share: per-run lookups, the Pareto front (over configurations), the baseline line. */
function plotInput(runs: readonly RunView[]): PlotInput {
  const a = plotArrays(runs);
  const among: number[] = [];
  for (let j = 0; j < runs.length; j++) if (a.ok[j] && Number.isFinite(a.bytes[j])) among.push(j);
  const frontConfigs = configFront(a.acc, a.bytes, configIndices(runs), among);
  const front = new Set([...frontRuns(frontConfigs)].map((j) => runs[j]!.id));
  return { ...a, front, frontConfigs, ref: baselineRef(a) };
}

/** Every figure of the report, in page order; figures without data carry a note instead of an SVG. */
export function reportPlots(runs: readonly RunView[], opts: Pick<HtmlOptions, 'maxPoints' | 'reference'> = {}): Plot[] {
  return plotsOf(plotInput(runs), opts);
}

function plotsOf(input: PlotInput, opts: Pick<HtmlOptions, 'maxPoints' | 'reference'>): Plot[] {
  const sensitivity = sensitivityPlots(input);
  return [
    accuracyVsBytes(input, opts.maxPoints ?? DEFAULT_MAX_POINTS, publishedPoints(opts.reference)),
    ...accuracyVsParams(input, [
      {
        id: 'acc-weight-bits',
        title: 'Accuracy vs weight bits',
        xLabel: `weight bits (${Metric.weightBits})`,
        x: { metric: Metric.weightBits },
      },
      {
        id: 'acc-retention',
        title: 'Accuracy vs pruning retention',
        xLabel: 'retention (fraction of weights kept)',
        x: { param: (k) => k.endsWith('.retention') },
      },
      {
        id: 'acc-clip',
        title: 'Accuracy vs clip threshold',
        xLabel: 'clip threshold (*.threshold)',
        x: { param: (k) => k.endsWith('.threshold') },
      },
      {
        id: 'acc-activation-bits',
        title: 'Accuracy vs activation bits',
        xLabel: `activation bits (${Metric.activationBits})`,
        x: { metric: Metric.activationBits },
      },
    ]),
    layerSizes(input),
    ...(sensitivity.length
      ? sensitivity
      : [
          {
            id: 'sensitivity',
            title: 'Per-layer sensitivity',
            note: 'No per-layer sweep (no *.layer param): plot omitted.',
            unswept: true,
          },
        ]),
  ];
}

/** The figures, and one line naming the plots of axes the experiment does not sweep (left out). */
function plotsHtml(plots: readonly Plot[]): string {
  const unswept = plots.filter((p) => p.unswept && !p.svg);
  const cards = plots.filter((p) => !(p.unswept && !p.svg)).map(figure);
  const left = unswept.length
    ? `<p class="note">Not drawn, as the experiment does not sweep them: ${esc(unswept.map((p) => p.title).join('; '))}.</p>`
    : '';
  return `<div class="plots">${cards.join('\n')}</div>${left}`;
}

function figure(p: Plot): string {
  return p.svg
    ? `<figure class="card" data-plot="${esc(p.id)}">${p.svg}</figure>`
    : `<figure class="card empty" data-plot="${esc(p.id)}"><h3>${esc(p.title)}</h3><p class="note">${esc(p.note ?? 'No data: plot omitted.')}</p></figure>`;
}

/**
 * One self-contained HTML page: inline CSS and inline SVG, no script, and a Content-Security-Policy
 * that lets it load nothing. The comparison table (Pareto-front runs marked ★, constant columns
 * hidden), the plots of `reportPlots` (those of axes the experiment does not sweep left out and
 * named), the `reference:` table when given, and the failed runs with their errors. Every string that
 * comes from the experiment (names, labels, params, tags, errors) is HTML-escaped.
 */
export function renderHtml(experiment: string, runs: RunView[], opts: HtmlOptions = {}): string {
  const title = opts.title ?? `Squash report: ${experiment}`;
  const input = plotInput(runs);
  const table = reportTable(experiment, runs, {
    front: input.front,
    maxRows: opts.maxTableRows ?? DEFAULT_MAX_TABLE_ROWS,
  });
  const shown = new Set(table.rows.map((row) => row.id));
  const byId = new Map(runs.filter((r) => shown.has(r.id)).map((r) => [r.id, r]));
  const downloads = downloadTable([...byId.values()], opts.decoderBytes);
  const count = (s: RunView['status']) => runs.filter((r) => r.status === s).length;
  const front = input.front.size;
  const backends = [...new Set(runs.map((r) => r.backend ?? '?'))].join(', ');
  const seeds = new Set(runs.map((r) => r.seed)).size;
  const data = dataDescription(runs);
  const summary = `${runs.length} runs (${runs.filter((r) => r.isBaseline).length} baseline) · ${count('FINISHED')} finished · ${count('FAILED')} failed${count('KILLED') ? ` · ${count('KILLED')} killed` : ''} · ${seeds} seed${seeds === 1 ? '' : 's'} · backend ${backends} · ${front} on the Pareto front`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<p class="summary">${esc(summary)}${opts.generatedAt ? ` · generated ${esc(opts.generatedAt)}` : ''}</p>`,
    data ? `<p class="summary">data: ${esc(data)}</p>` : '',
    `<h2>Plots</h2>${plotsHtml(plotsOf(input, opts))}`,
    `<h2>Runs</h2><p class="note">★ marks the runs of configurations on the accuracy / artifact-size Pareto front (seeds averaged); columns equal in every shown row are hidden. Hover a trial for its params.</p>`,
    tableHtml(table, byId),
    downloads
      ? `<h2>Download sizes</h2><p class="note">What a browser downloads for each trial's model: as stock TensorFlow.js files (squash export --format tfjs, tfjs-uint8), plain and gzipped file by file, beside the .sqz alone and with its decoder. — : not recorded for that run.</p>${tableHtml(downloads, byId, 'downloads')}`
      : '',
    ...(opts.searches ?? []).map(searchHtml),
    opts.reference ? `<h2>Reference</h2>${tableHtml(referenceTable(opts.reference, runs), new Map())}` : '',
    failuresHtml(runs),
    '</body></html>',
    '',
  ].join('\n');
}
