import { parseArgs } from 'node:util';
import { ConfigError, didYouMean } from '@squash/core';

export const HELP = `squash — declarative experiments for neural-network compression

Usage:
  squash run <experiment.yaml> [--db <path>] [--backend auto|tensorflow|native|wasm|cpu] [--jobs N]
             [--force] [--fail-fast] [--dry-run] [--yes] [--quiet | --json] [--format …] [--out <file>]
      Validate the file, train the baseline once per seed (cached under <db dir>/cache/),
      run every trial not already FINISHED, store it in SQLite and print the comparison table.
  squash report <experiment name | experiment.yaml> [--db <path>] [--format terminal|markdown|csv|json|html]
               [--pivot rows:columns[:metric]] [--limit N|all] [--out <file>]
      The comparison table (baseline first, deltas, Pareto front of accuracy vs artifact bytes marked,
      constant columns hidden; terminal and markdown show 100 rows, the Pareto front first, unless
      --limit says otherwise), a pivot of two swept params (mean ± std over seeds), or a
      self-contained HTML page with plots (default file: <db dir>/reports/<experiment>.html).
      With a file carrying a reference: block, published numbers are shown beside the measured ones.
  squash query ['<filter>'] [--order-by '<ident> [desc], …'] [--limit N] [--columns '<ident>, …'] [--experiment <name>]
      Runs matching a filter: metrics.<key>, params.<key>, tags.<key>, attributes.<name>; = != < <= > >=,
      like, in (…), is null, and, or, not, parentheses; numbers compare as numbers.
  squash ls [--db <path>]
      Experiments in the database, with recorded sweeps and runs per status.
  squash show <run id> [--db <path>] [--format …]
      One run: attributes, params, metrics, per-tensor sizes, artifact path (an id prefix is enough).
  squash compare <run id> <run id> [--db <path>] [--format …]
      Params that differ and every metric side by side, with the difference.
  squash history <trial id> [--db <path>] [--format …]
      Every run of one configuration across experiments, sweeps and time, with version and backend.
  squash --help

Options:
  --db <path>       SQLite database (default: results/squash.db)
  --backend <name>  TensorFlow.js backend; default auto = tfjs-node if installed, else native (Squash's
                    C++ kernels), else wasm, else cpu (also SQUASH_BACKEND). The backend of every run
                    is recorded.
  --format <fmt>    report format: terminal (default), markdown, csv
  --out <file>      write the report to a file instead of standard output
  --jobs N          run: N worker processes claim trials from the database (default 1)
  --force           run: rerun trials that are already FINISHED (baselines stay cached)
  --fail-fast       run: start no new trial after one has failed (default: record it FAILED, go on)
  --dry-run         run: print the expanded trials and which are already done; write nothing
  --yes             run: allow a grid of more than 500 trials
  --quiet           run: print only the final table
  --json            run: print the event stream (one JSON object per line) instead of progress

Exit codes: 0 success, 1 failed trials or internal error, 2 bad input (file, flags, data).
`;

export const COMMANDS = ['run', 'report', 'ls', 'show', 'compare', 'history', 'query'] as const;
/** Commands that take no positional argument (query's filter is optional: none matches all). */
const NO_TARGET = new Set<string>(['ls']);
const OPTIONAL_TARGET = new Set<string>(['query']);
type Command = (typeof COMMANDS)[number];

export interface ParsedArgs {
  command?: Command;
  target?: string;
  /** compare: the second run. */
  second?: string;
  db?: string;
  backend?: string;
  format?: string;
  out?: string;
  jobs?: string;
  pivot?: string;
  orderBy?: string;
  limit?: string;
  columns?: string;
  experiment?: string;
  quiet: boolean;
  json: boolean;
  force: boolean;
  failFast: boolean;
  dryRun: boolean;
  yes: boolean;
  help: boolean;
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        backend: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        jobs: { type: 'string', short: 'j' },
        pivot: { type: 'string' },
        'order-by': { type: 'string' },
        limit: { type: 'string' },
        columns: { type: 'string' },
        experiment: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        'fail-fast': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}; see squash --help`);
  }
  const { values, positionals } = parsed;
  const [command, target, ...extra] = positionals;
  const flags = {
    quiet: !!values.quiet,
    json: !!values.json,
    force: !!values.force,
    failFast: !!values['fail-fast'],
    dryRun: !!values['dry-run'],
    yes: !!values.yes,
  };
  if (values.help || command === undefined || command === 'help') return { ...flags, help: true };
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const near = didYouMean(command, COMMANDS);
    throw new ConfigError(
      `unknown command '${command}'${near ? `; did you mean '${near}'?` : ''}; commands: ${COMMANDS.join(', ')}`,
    );
  }
  const needs: Record<string, string> = {
    run: 'an experiment file',
    report: 'an experiment name or file',
    show: 'a run id',
    compare: 'two run ids',
    history: 'a trial id',
  };
  if (!target && !NO_TARGET.has(command) && !OPTIONAL_TARGET.has(command))
    throw new ConfigError(`'squash ${command}' needs ${needs[command]}; see squash --help`);
  const second = command === 'compare' ? extra.shift() : undefined;
  if (extra.length || (target && NO_TARGET.has(command)))
    throw new ConfigError(
      `unexpected arguments: ${[...(NO_TARGET.has(command) && target ? [target] : []), ...extra].join(' ')}`,
    );
  return {
    command: command as Command,
    target,
    second,
    db: values.db,
    backend: values.backend,
    format: values.format,
    out: values.out,
    jobs: values.jobs,
    pivot: values.pivot,
    orderBy: values['order-by'],
    limit: values.limit,
    columns: values.columns,
    experiment: values.experiment,
    ...flags,
    help: false,
  };
}

/** Routes to a command, importing it lazily so `--help` does not load TensorFlow.js. */
export async function main(
  argv: string[],
  io = { out: (s: string) => void process.stdout.write(s), err: (s: string) => void process.stderr.write(s) },
): Promise<number> {
  const args = parseCli(argv);
  if (args.help) {
    io.out(HELP);
    return 0;
  }
  switch (args.command) {
    case 'run':
      return (await import('./commands/run.js')).run(args, io);
    case 'report':
      return (await import('./commands/report.js')).report(args, io);
    default:
      return (await import('./commands/inspect.js'))[args.command!](args, io);
  }
}
