import { backendPreference } from '@squash/core';
import { defaultPaths, loadExperimentFile, runExperiment, SqliteStore, type RunEvent } from '@squash/runner';
import type { ParsedArgs } from '../cli.js';
import { checkFormat, planned, printReport, type IO } from './report.js';

function progressLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'start':
      return `squash: ${e.experiment}: ${e.trials} trials, ${e.done} already finished; backend ${e.backend} (${e.reason})`;
    case 'epoch':
      return `  ${e.label ? `fine-tune ${e.label}` : `baseline seed ${e.seed}`} epoch ${e.log.epoch}: loss ${e.log.loss.toFixed(4)} acc ${(e.log.accuracy * 100).toFixed(2)}%` +
        (e.log.valAccuracy !== undefined ? ` val ${(e.log.valAccuracy * 100).toFixed(2)}%` : '') +
        ` (${e.log.seconds.toFixed(1)} s, ${Math.round(e.log.samplesPerSecond)} samples/s)`;
    case 'baseline':
      return `  baseline seed ${e.seed}: ${e.cacheHit ? 'cached model reused' : `trained in ${e.seconds.toFixed(1)} s`}, test accuracy ${(e.accuracy * 100).toFixed(2)}%`;
    case 'trial':
      if (e.status === 'SKIPPED') return undefined;
      return `  [${e.index}/${e.total}] ${e.status} ${e.label}` +
        (e.accuracy !== undefined ? `: ${(e.accuracy * 100).toFixed(2)}%` : '') + (e.error ? `: ${e.error}` : '');
    default:
      return undefined;
  }
}

/**
 * Validates everything before opening the database (a bad file writes nothing), runs, then prints
 * the table. Ctrl-C marks the trial in progress KILLED so the next run does it again.
 */
export async function run(args: ParsedArgs, io: IO): Promise<number> {
  const format = checkFormat(args.format);
  const backend = backendPreference(args.backend);
  const experiment = loadExperimentFile(args.target!);
  const paths = defaultPaths(args.db);
  const store = SqliteStore.open(paths.db);
  let current: string | undefined;
  const onSigint = () => {
    if (current) store.setStatus(current, 'KILLED', 'interrupted (SIGINT)');
    store.close();
    io.err('\nsquash: interrupted; finished trials are stored, rerun to continue\n');
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    const summary = await runExperiment(experiment, {
      store,
      cacheDir: paths.cacheDir,
      backend,
      onEvent: (e) => {
        if (e.type === 'running') current = e.runId;
        if (e.type === 'trial') current = undefined;
        const line = args.quiet ? undefined : progressLine(e);
        if (line) io.err(line + '\n');
      },
    });
    if (!args.quiet) io.err(`squash: ${summary.finished} finished, ${summary.skipped} skipped (already finished), ${summary.failed} failed; database ${paths.db}\n\n`);
    printReport(store, planned(experiment), format, io, args.out);
    return summary.failed ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    store.close();
  }
}
