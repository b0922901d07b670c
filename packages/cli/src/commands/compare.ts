import { isLayerMetricKey } from '@squash/contract';
import type { IO } from '../io.js';
import type { OutputOptions } from '../options.js';
import { printTables } from '../output.js';
import { withReadStore } from '../read_store.js';

export type CompareOptions = OutputOptions;

/** `squash compare <run> <run>`: params that differ and every run-level metric, side by side. */
export async function compare(first: string, second: string, opts: CompareOptions, io: IO): Promise<number> {
  withReadStore(opts.db, (store) => {
    const a = store.getRun(first);
    const b = store.getRun(second);
    const keys = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    const paramRows = keys(a.params, b.params)
      .filter((k) => a.params[k] !== b.params[k])
      .map((k) => ({ key: k, a: a.params[k], b: b.params[k] }));
    const metricRows = keys(a.metrics, b.metrics)
      .filter((k) => !isLayerMetricKey(k))
      .map((k) => {
        const x = a.metrics[k],
          y = b.metrics[k];
        return { key: k, a: x, b: y, diff: x !== undefined && y !== undefined ? y - x : undefined };
      });
    const cols = [
      { key: 'key', title: 'key', align: 'left' as const },
      { key: 'a', title: a.id.slice(0, 10), align: 'right' as const },
      { key: 'b', title: b.id.slice(0, 10), align: 'right' as const },
      { key: 'diff', title: 'b − a', align: 'right' as const },
    ];
    printTables(
      opts.format,
      io,
      {
        title: `${a.label} (${a.id.slice(0, 10)}) vs ${b.label} (${b.id.slice(0, 10)}): params that differ`,
        columns: cols,
        rows: paramRows,
      },
      { title: 'metrics', columns: cols, rows: metricRows },
    );
  });
  return 0;
}
