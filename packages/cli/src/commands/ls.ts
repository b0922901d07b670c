import { defaultPaths } from '@squash/store';
import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { printTables } from '../output.js';
import { withReadStore } from '../read_store.js';

export type LsOptions = OutputOptions;

/** `squash ls`: experiments, their recorded sweeps and runs per status. */
export async function ls(opts: LsOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const byExp = new Map<string, Record<string, string | number>>();
    for (const r of store.statusCounts()) {
      const row = byExp.get(r.experiment) ?? {
        experiment: r.experiment,
        sweeps: r.sweeps,
        runs: 0,
        FINISHED: 0,
        RUNNING: 0,
        FAILED: 0,
        KILLED: 0,
        last: '',
      };
      if (r.status) {
        row[r.status] = r.runs;
        row.runs = (row.runs as number) + r.runs;
      }
      if (r.last && r.last > (row.last as string)) row.last = r.last;
      byExp.set(r.experiment, row);
    }
    printTables(opts.format, io, {
      title: `${byExp.size} experiments in ${defaultPaths(opts.db).db}`,
      columns: ['experiment', 'sweeps', 'runs', 'FINISHED', 'RUNNING', 'FAILED', 'KILLED', 'last'].map((k) => ({
        key: k,
        title: k.toLowerCase(),
        align: k === 'experiment' || k === 'last' ? 'left' : 'right',
      })),
      rows: [...byExp.values()],
    });
  });
  return 0;
}
