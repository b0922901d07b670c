import { ConfigError } from '@squash/core';
import { openQueue, parseQueueTarget, queuedExperimentText } from '@squash/queue';
import { type Experiment, experimentFromText, InterruptedError, loadExperimentFile } from '@squash/runner';
import { defaultPaths } from '@squash/store';
import type { IO } from '../io.js';
import type { TableFormat } from '../output.js';
import { planned, printReport } from '../report_print.js';
import { stoppable } from '../signals.js';
import { eventSink } from './run.js';

export interface CollectOptions {
  queue: string;
  queueName?: string;
  db?: string;
  quiet?: boolean;
  json?: boolean;
  format: TableFormat;
}

/** The experiment to record: the file given, else the text the queue's owner was enqueued from. */
async function experimentOf(file: string | undefined, opts: CollectOptions): Promise<Experiment> {
  if (file) return loadExperimentFile(file);
  const target = parseQueueTarget(opts.queue, opts.queueName);
  const session = await openQueue(target);
  try {
    const held = await queuedExperimentText(session);
    if (!held)
      throw new ConfigError(`queue '${target.name}' at ${target.display} holds no experiment`, {
        hint: 'enqueue one with squash run <experiment.yaml> --queue <url> --detach',
      });
    return experimentFromText(held.text, held.file);
  } finally {
    await session.close();
  }
}

/**
 * `squash collect`: the recorder without enqueueing. Stores every result the queue holds (results
 * finished while no recorder ran included), waits for the jobs still queued or running, then
 * prints the table. Exit 1 when a trial failed.
 */
export async function collect(file: string | undefined, opts: CollectOptions, io: IO): Promise<number> {
  const experiment = await experimentOf(file, opts);
  const { throughQueue } = await import('./queue_run.js');
  const { store, summary } = await stoppable(async (stop) => {
    try {
      return await throughQueue(experiment, { ...opts }, 'collect', eventSink(opts, io), stop);
    } catch (e) {
      if (e instanceof InterruptedError && process.stderr.isTTY && !opts.quiet && !opts.json) io.err('\n');
      throw e;
    }
  });
  try {
    if (!opts.json) {
      if (!opts.quiet) io.err(`database ${defaultPaths(opts.db).db}\n\n`);
      printReport(store, await planned(experiment), opts.format, io, {});
    }
    return summary.failed ? 1 : 0;
  } finally {
    store.close();
  }
}
