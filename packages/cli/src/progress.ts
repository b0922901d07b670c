import { terminalText } from '@squash/reporter';
import type { RunEvent } from '@squash/runner';

type EpochEvent = Extract<RunEvent, { type: 'epoch' }>;

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** Where an epoch belongs, in words: `stage 1/2 prune-iterative · round 2/3 · epoch 1/3`. */
function epochPlace(e: EpochEvent): string {
  const parts: string[] = [];
  if (e.stage) parts.push(e.stages && e.stages > 1 ? `stage ${e.stageIndex}/${e.stages} ${e.stage}` : e.stage);
  if (e.round !== undefined) parts.push(`round ${e.round}/${e.rounds}`);
  parts.push(`epoch ${e.log.epoch}/${e.epochs}`);
  return parts.join(' · ');
}

function epochNumbers(e: EpochEvent): string {
  return (
    `loss ${e.log.loss.toFixed(4)} acc ${pct(e.log.accuracy)}` +
    (e.log.valAccuracy !== undefined ? ` val ${pct(e.log.valAccuracy)}` : '') +
    ` (${e.log.seconds.toFixed(1)} s, ${Math.round(e.log.samplesPerSecond)} samples/s)`
  );
}

/**
 * One plain line per event worth a line (logs, CI, pipes). Labels, names and error texts come from
 * the user's files, so the line is neutralised for a terminal like every table.
 */
export function progressLine(e: RunEvent): string | undefined {
  const line = plainLine(e);
  return line === undefined ? undefined : terminalText(line);
}

function plainLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'start':
      return `squash: ${e.experiment}: ${e.trials} trials, ${e.done} already finished; backend ${e.backend} (${e.reason})${e.jobs > 1 ? `; ${e.jobs} worker processes` : ''}`;
    case 'baseline-start':
      if (e.file && e.epochs === 0) return `  baseline seed ${e.seed}: ${e.file} as saved`;
      return `  baseline seed ${e.seed}: training${e.file ? ` from ${e.file}` : ''}, ${e.epochs} epochs`;
    case 'baseline-wait':
      return `  baseline seed ${e.seed}: another process${e.holder ? ` (${e.holder})` : ''} is training it; waiting for its model`;
    case 'epoch':
      return e.trialId === undefined
        ? `  baseline seed ${e.seed} · epoch ${e.log.epoch}/${e.epochs}: ${epochNumbers(e)}`
        : `  ${e.label} · ${epochPlace(e)}: ${epochNumbers(e)}`;
    case 'baseline': {
      const how = e.cacheHit
        ? 'cached model reused'
        : e.file && !e.seconds
          ? 'read'
          : `trained in ${e.seconds.toFixed(1)} s`;
      return `  baseline seed ${e.seed}: ${how}, test accuracy ${pct(e.accuracy)}`;
    }
    case 'warning':
      return `squash: warning: ${e.message}`;
    case 'search':
      return `search ${e.search}: ${e.message}`;
    case 'trial':
      if (e.status === 'SKIPPED') return undefined;
      return (
        `  [${e.index}/${e.total}] ${e.status} ${e.label}` +
        (e.accuracy !== undefined ? `: ${pct(e.accuracy)}` : '') +
        (e.error ? `: ${e.error}` : '')
      );
    case 'done':
      return (
        `squash: ${e.finished} finished, ${e.skipped} skipped (already finished), ${e.failed} failed` +
        (e.killed ? `, ${e.killed} killed` : '') +
        (e.elsewhere ? `, ${e.elsewhere} still running in another process` : '')
      );
    default:
      return undefined;
  }
}

/** A trial in progress here (or in a worker of this run), and where it is. */
interface Running {
  index: number;
  label: string;
  /** When its `running` event arrived (ms). */
  since: number;
  /** Stage, round and epoch so far, in words. */
  place: string;
}

/**
 * A one-line progress bar for terminals, redrawn in place; other lines (baselines, failures,
 * warnings) print above it. It says what runs now — the baseline's epoch, or the trial's index,
 * stage, round and epoch — and an ETA from the durations of trials finished in this run (never
 * from the baseline's time); "ETA ?" until the first one finishes.
 */
export function progressBar(write: (s: string) => void, width: number, now: () => number = Date.now) {
  let total = 0,
    skipped = 0,
    finished = 0,
    failed = 0,
    jobs = 1;
  const durations: number[] = [];
  const running = new Map<string, Running>();
  /** The trial whose progress came last: the one shown. */
  let shown: string | undefined;
  let baseline: string | undefined;

  const eta = () => {
    if (!durations.length) return '?';
    const left = total - skipped - finished - failed;
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    return duration((left * mean) / Math.max(1, Math.min(jobs, left)));
  };
  const doing = () => {
    if (baseline) return baseline;
    const r = shown === undefined ? undefined : running.get(shown);
    if (!r) return '';
    const others = running.size > 1 ? ` (+${running.size - 1} running)` : '';
    return `trial ${r.index}/${total}${r.place ? ` · ${r.place}` : ''}${others} · ${terminalText(r.label)}`;
  };
  const draw = () => {
    const barWidth = 24;
    const done = skipped + finished + failed;
    const filled = total ? Math.round((done / total) * barWidth) : 0;
    const what = doing();
    const text =
      `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${done}/${total}` +
      (failed ? ` (${failed} failed)` : '') +
      ` ETA ${eta()}` +
      (what ? ` · ${what}` : '');
    write(`\r\x1b[2K${[...text].slice(0, Math.max(20, width - 1)).join('')}`);
  };
  const line = (e: RunEvent) => {
    const text = progressLine(e);
    if (text) write(`\r\x1b[2K${text}\n`);
  };

  return (e: RunEvent) => {
    switch (e.type) {
      case 'start':
        total = e.trials;
        skipped = e.done;
        jobs = e.jobs;
        write(`${progressLine(e)!}\n`);
        break;
      case 'baseline-start':
        baseline = `baseline seed ${e.seed} · training`;
        break;
      case 'baseline-wait':
        baseline = `baseline seed ${e.seed} · waiting for ${e.holder ?? 'another process'}`;
        line(e);
        break;
      case 'baseline':
        baseline = undefined;
        line(e);
        break;
      case 'epoch':
        if (e.trialId === undefined) baseline = `baseline seed ${e.seed} · epoch ${e.log.epoch}/${e.epochs}`;
        else {
          const r = running.get(e.trialId);
          if (r) r.place = epochPlace(e);
          shown = e.trialId;
        }
        break;
      case 'stage': {
        const r = running.get(e.trialId);
        if (r) r.place = e.stages > 1 ? `stage ${e.stageIndex}/${e.stages} ${e.stage}` : e.stage;
        shown = e.trialId;
        break;
      }
      case 'running':
        running.set(e.trialId, { index: e.index, label: e.label, since: now(), place: '' });
        shown = e.trialId;
        break;
      case 'trial': {
        if (e.status === 'SKIPPED') break;
        const r = running.get(e.trialId);
        running.delete(e.trialId);
        if (shown === e.trialId) shown = [...running.keys()].at(-1);
        if (e.status === 'KILLED') break;
        durations.push(e.seconds ?? (r ? (now() - r.since) / 1000 : Number.NaN));
        if (!Number.isFinite(durations.at(-1)!)) durations.pop();
        if (e.status === 'FINISHED') finished++;
        else {
          failed++;
          line(e);
        }
        break;
      }
      case 'warning':
      case 'search':
        line(e);
        break;
      case 'done':
        line(e);
        return;
    }
    draw();
  };
}
