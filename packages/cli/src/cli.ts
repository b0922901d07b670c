import { parseArgs } from 'node:util';
import { ConfigError, didYouMean } from '@squash/core';

export const HELP = `squash — declarative experiments for neural-network compression

Usage:
  squash run <experiment.yaml> [--db <path>] [--backend auto|tensorflow|wasm|cpu] [--jobs N]
             [--force] [--fail-fast] [--dry-run] [--yes] [--quiet | --json] [--format …] [--out <file>]
      Validate the file, train the baseline once per seed (cached under <db dir>/cache/),
      run every trial not already FINISHED, store it in SQLite and print the comparison table.
  squash report <experiment name | experiment.yaml> [--db <path>] [--format terminal|markdown|csv] [--out <file>]
      Print the comparison table of an experiment from the database.
  squash --help

Options:
  --db <path>       SQLite database (default: results/squash.db)
  --backend <name>  TensorFlow.js backend; default auto = tfjs-node if installed, else wasm, else cpu
                    (also SQUASH_BACKEND). The backend of every run is recorded.
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

const COMMANDS = ['run', 'report'] as const;
type Command = (typeof COMMANDS)[number];

export interface ParsedArgs {
  command?: Command;
  target?: string;
  db?: string;
  backend?: string;
  format?: string;
  out?: string;
  jobs?: string;
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
  const flags = { quiet: !!values.quiet, json: !!values.json, force: !!values.force, failFast: !!values['fail-fast'], dryRun: !!values['dry-run'], yes: !!values.yes };
  if (values.help || command === undefined || command === 'help') return { ...flags, help: true };
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const near = didYouMean(command, COMMANDS);
    throw new ConfigError(`unknown command '${command}'${near ? `; did you mean '${near}'?` : ''}; commands: ${COMMANDS.join(', ')}`);
  }
  if (!target) throw new ConfigError(`'squash ${command}' needs an ${command === 'run' ? 'experiment file' : 'experiment name or file'}; see squash --help`);
  if (extra.length) throw new ConfigError(`unexpected arguments: ${extra.join(' ')}`);
  return { command: command as Command, target, db: values.db, backend: values.backend, format: values.format, out: values.out, jobs: values.jobs, ...flags, help: false };
}

/** Routes to a command, importing it lazily so `--help` does not load TensorFlow.js. */
export async function main(argv: string[], io = { out: (s: string) => void process.stdout.write(s), err: (s: string) => void process.stderr.write(s) }): Promise<number> {
  const args = parseCli(argv);
  if (args.help) {
    io.out(HELP);
    return 0;
  }
  if (args.command === 'run') return (await import('./commands/run.js')).run(args, io);
  return (await import('./commands/report.js')).report(args, io);
}
