import type { RunEvent } from '@squash/runner';

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** One plain line per event worth a line (logs, CI, pipes). */
export function progressLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'start':
      return `squash: ${e.experiment}: ${e.trials} trials, ${e.done} already finished; backend ${e.backend} (${e.reason})${e.jobs > 1 ? `; ${e.jobs} worker processes` : ''}`;
    case 'epoch':
      return (
        `  ${e.label ? `fine-tune ${e.label}` : `baseline seed ${e.seed}`} epoch ${e.log.epoch}: loss ${e.log.loss.toFixed(4)} acc ${pct(e.log.accuracy)}` +
        (e.log.valAccuracy !== undefined ? ` val ${pct(e.log.valAccuracy)}` : '') +
        ` (${e.log.seconds.toFixed(1)} s, ${Math.round(e.log.samplesPerSecond)} samples/s)`
      );
    case 'baseline':
      return `  baseline seed ${e.seed}: ${e.cacheHit ? 'cached model reused' : `trained in ${e.seconds.toFixed(1)} s`}, test accuracy ${pct(e.accuracy)}`;
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

/**
 * A one-line progress bar for terminals: counts, ETA from the mean time of finished trials, and
 * the trial in progress. Redrawn in place; other lines (epochs, failures) print above it.
 */
export function progressBar(write: (s: string) => void, width: number) {
  let total = 0,
    done = 0,
    skipped = 0,
    failed = 0;
  let current = '';
  const started = Date.now();
  let ranHere = 0;
  const draw = () => {
    const finished = done + failed;
    const perTrial = ranHere ? (Date.now() - started) / 1000 / ranHere : NaN;
    const left = total - skipped - finished;
    const barWidth = 24;
    const filled = total ? Math.round(((skipped + finished) / total) * barWidth) : 0;
    const text =
      `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${skipped + finished}/${total}` +
      (failed ? ` (${failed} failed)` : '') +
      ` ETA ${duration(left * perTrial)}` +
      (current ? ` · ${current}` : '');
    write(`\r\x1b[2K${text.slice(0, Math.max(20, width - 1))}`);
  };
  return (e: RunEvent) => {
    if (e.type === 'start') {
      total = e.trials;
      skipped = e.done;
      write(`${progressLine(e)!}\n`);
    } else if (e.type === 'running') current = e.label;
    else if (e.type === 'trial' && e.status !== 'SKIPPED') {
      if (e.status === 'FINISHED') done++;
      else {
        failed++;
        write(`\r\x1b[2K${progressLine(e)}\n`);
      }
      ranHere++;
      current = '';
    } else if (e.type === 'baseline') write(`\r\x1b[2K${progressLine(e)}\n`);
    else if (e.type === 'done') {
      write(`\r\x1b[2K${progressLine(e)}\n`);
      return;
    }
    draw();
  };
}
