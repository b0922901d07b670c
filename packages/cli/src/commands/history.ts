import { ConfigError } from '@squash/core';
import { Metric } from '@squash/contract';
import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { printTables } from '../output.js';
import { checkKeysExist, searchIdents, withReadStore } from '../read_store.js';

export type HistoryOptions = OutputOptions;

/** `squash history <trial id | filter>`: the same config across experiments, sweeps and time. */
export async function history(trial: string, opts: HistoryOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    // A trial id (or prefix) first; anything else is a filter whose runs' trials are followed.
    const isTrialId = /^[0-9a-f]{4,}$/.test(trial);
    let runs = isTrialId ? store.runsOfTrial(trial) : [];
    if (!isTrialId) {
      // An attribute column is named by the attribute alone.
      const ids = store.searchRuns(trial, { columns: ['attributes.trial_id'] }).rows.map((r) => String(r.trial_id));
      checkKeysExist(store, searchIdents(trial));
      runs = [...new Set(ids)].flatMap((id) => store.runsOfTrial(id));
    }
    if (!runs.length)
      throw new ConfigError(
        `no runs of trial '${trial}' (give a trial id or its prefix, or a filter; see squash show <run>)`,
      );
    const trials = new Set(runs.map((r) => r.trialId)).size;
    printTables(opts.format, io, {
      title:
        trials === 1
          ? `trial ${runs[0]!.trialId}: ${runs[0]!.label} — ${runs.length} runs`
          : `${trials} trials — ${runs.length} runs`,
      columns: [
        { key: 'started', title: 'started', align: 'left' },
        { key: 'experiment', title: 'experiment', align: 'left' },
        { key: 'sweep', title: 'sweep', align: 'left' },
        { key: 'status', title: 'status', align: 'left' },
        { key: 'attempt', title: 'attempt', align: 'right' },
        { key: 'version', title: 'squash', align: 'left' },
        { key: 'backend', title: 'backend', align: 'left' },
        { key: 'accuracyPct', title: 'acc %', align: 'right' },
        { key: 'bytes', title: 'artifact bytes', align: 'right' },
        { key: 'run', title: 'run', align: 'left' },
        { key: 'trial', title: 'trial', align: 'left' },
      ],
      rows: runs.map((r) => {
        const accuracy = r.metrics[Metric.accuracy];
        return {
          started: r.startedAt,
          experiment: r.experiment,
          sweep: r.sweep,
          status: r.status,
          attempt: r.attempt,
          version: r.squashVersion ?? '',
          backend: r.backend,
          accuracyPct: accuracy !== undefined ? (accuracy * 100).toFixed(2) : '',
          bytes: r.metrics[Metric.artifactBytes] ?? '',
          run: r.id.slice(0, 12),
          trial: r.label,
        };
      }),
    });
  });
  return 0;
}
