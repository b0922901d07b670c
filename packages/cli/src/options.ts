/**
 * Options more than one command declares, and the parsers that turn option text into typed values.
 * A parser's ConfigError passes through commander untouched, so the message names the flag (exit 2).
 */
import { type Command, Option, type OptionValues } from '@commander-js/extra-typings';
import { Metric } from '@squash/contract';
import { ConfigError } from '@squash/core';
import { type PivotOptions, REPORT_FORMATS } from '@squash/reporter';

/** Above this many trials a run asks for --yes, so a typo in a range cannot start hours of work. */
export const CONFIRM_ABOVE = 500;

/** Rows a terminal or markdown report shows unless `--limit` says otherwise. */
export const DEFAULT_REPORT_ROWS = 100;

/** Formats of every table; `report` also writes `html`. */
export const TABLE_FORMATS = [...REPORT_FORMATS, 'json'] as const;
export const REPORT_COMMAND_FORMATS = [...TABLE_FORMATS, 'html'] as const;

/** What `squash export --format` writes: stock tfjs (float32, or tfjs' quantized dtypes), or the .sqz with its decoder. */
export const EXPORT_FORMATS = ['tfjs', 'tfjs-uint8', 'tfjs-uint16', 'tfjs-float16', 'sqz'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** `--db`, the database a command reads or writes; `defaultPaths` (the store) supplies the default. */
export const dbOption = () => new Option('--db <path>', 'SQLite database (default: results/squash.db)');

/** `--out`, where a report goes instead of standard output. */
export const outOption = () => new Option('--out <file>', 'write the report to a file instead of standard output');

/**
 * The shared output options (sqlite-utils' `output_options`): `--db` and `--format`, with the
 * formats this command can write.
 */
export function withOutputOptions<
  Args extends unknown[],
  Opts extends OptionValues,
  Globals extends OptionValues,
  const Formats extends readonly string[],
>(cmd: Command<Args, Opts, Globals>, formats: Formats) {
  return cmd
    .addOption(dbOption())
    .addOption(new Option('--format <fmt>', 'output format').choices(formats).default('terminal' as const));
}

/** The options every read command takes (`--db`, `--format`). */
export interface OutputOptions {
  db?: string;
  format: (typeof TABLE_FORMATS)[number];
}

function wholeNumber(text: string): number | undefined {
  const n = Number(text);
  return Number.isInteger(n) ? n : undefined;
}

/** `--jobs N`: worker processes, 1…64. */
export function parseJobs(text: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 1 || n > 64)
    throw new ConfigError(`--jobs must be an integer in [1, 64], got '${text}'`, { location: { path: '--jobs' } });
  return n;
}

export function parseConcurrency(text: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 1 || n > 64)
    throw new ConfigError(`--concurrency must be an integer in [1, 64], got '${text}'`, {
      location: { path: '--concurrency' },
    });
  return n;
}

/** `--queue redis://…` and `--queue-name`: where the jobs of `run --queue`, `worker` and `collect` are. */
export const queueOption = () =>
  new Option(
    '--queue <redis://[:password@]host[:port][/db]>',
    'a BullMQ queue on Redis (rediss:// for TLS) that squash worker processes on any machine take trials from',
  );
export const queueNameOption = () =>
  new Option('--queue-name <name>', 'the queue within that Redis database (one experiment at a time)').default(
    'squash',
  );

/** `report --limit N|all`: rows to show; `all` is Infinity. */
export function parseRowLimit(text: string): number {
  if (text === 'all') return Infinity;
  const n = wholeNumber(text);
  if (n === undefined || n < 1)
    throw new ConfigError(`--limit expects a positive whole number or 'all', got '${text}'`, {
      location: { path: '--limit' },
    });
  return n;
}

/** `query --limit N`: at most N runs (0 is allowed: columns only). */
export function parseRunLimit(text: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 0)
    throw new ConfigError(`--limit must be a whole number, got '${text}'`, { location: { path: '--limit' } });
  return n;
}

export type Pivot = PivotOptions;

/** `--pivot rows:columns[:metric]`, e.g. `quantize-weights.bits:quantize-weights.scheme:accuracy`. */
export function parsePivot(text: string): Pivot {
  const [rows, columns, metric = Metric.accuracy, ...rest] = text.split(':');
  if (!rows || !columns || rest.length)
    throw new ConfigError(`--pivot expects rows:columns[:metric] (param keys and a metric key), got '${text}'`, {
      location: { path: '--pivot' },
    });
  return { rows, columns, metric };
}
