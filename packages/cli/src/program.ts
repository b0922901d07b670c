/**
 * The `squash` commands, declared once: arguments, options (placeholder, default, parser, choices)
 * and help text. Each action imports its command module only when it runs, so `--help`, a usage
 * error or a read command never loads the runner or TensorFlow.js.
 *
 * commander rather than cac or citty: it rejects unknown options, missing values, bad choices and
 * extra arguments by itself, suggests the nearest command or option for a misspelling, generates
 * each command's help from the declaration, and (with @commander-js/extra-typings) infers each
 * action's option types from it, so a command's options interface is checked against its flags.
 * commander 14 is the last major that supports Node 20.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { SQUASH_VERSION } from '@squash/core';
import { EXIT_CODES, rootHelp } from './help.js';
import type { IO } from './io.js';
import {
  CONFIRM_ABOVE,
  DEFAULT_REPORT_ROWS,
  dbOption,
  EXPORT_FORMATS,
  outOption,
  parseConcurrency,
  parseJobs,
  queueNameOption,
  queueOption,
  parsePivot,
  parseRowLimit,
  parseRunLimit,
  REPORT_COMMAND_FORMATS,
  TABLE_FORMATS,
  withOutputOptions,
} from './options.js';

/**
 * The program; `done` receives the exit code of the command that ran. Output (help included) goes
 * to `io`; usage errors are thrown as CommanderError for `main` to turn into exit 2.
 */
export function buildProgram(io: IO, done: (code: number) => void = () => {}) {
  // Settings before the commands: each command copies them when it is declared.
  const program = new Command('squash')
    .description('declarative experiments for neural-network compression')
    .version(SQUASH_VERSION, '-V, --version', 'print the version (the one every run records) and exit')
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
    .exitOverride()
    .addHelpText('afterAll', `\n${EXIT_CODES}`);

  withOutputOptions(
    program
      .command('run')
      .description(
        'Validate the file, train the baseline once per seed (cached under <db dir>/cache/), run every trial ' +
          'not already FINISHED, store it in SQLite and print the comparison table. A file with search: then runs ' +
          "each search's candidates in batches and prints what it chose (best feasible, else best effort).",
      )
      .argument('<experiment.yaml>', 'the experiment file'),
    TABLE_FORMATS,
  )
    .addOption(
      new Option(
        '--backend <name>',
        "TensorFlow.js backend: auto, tensorflow, native, wasm or cpu; auto = tfjs-node if installed, else native (Squash's " +
          'C++ kernels), else wasm, else cpu (default: SQUASH_BACKEND, else auto). The backend of every run is recorded.',
      ),
    )
    .addOption(
      new Option('-j, --jobs <N>', 'N worker processes claim trials from the database').argParser(parseJobs).default(1),
    )
    .option('--force', 'rerun trials that are already FINISHED (baselines stay cached)')
    .option('--fail-fast', 'start no new trial after one has failed (default: record it FAILED, go on)')
    .option('--dry-run', 'print the expanded trials and which are already done; write nothing')
    .option('-y, --yes', `allow a grid of more than ${CONFIRM_ABOVE} trials`)
    .option('--quiet', 'print only the final table')
    .option('--json', 'print the event stream (one JSON object per line) instead of progress and the table')
    .addOption(outOption())
    .addOption(queueOption())
    .addOption(queueNameOption())
    .option('--detach', 'with --queue: enqueue the trials and exit; squash collect records the results')
    .action(async (file, opts) => done(await (await import('./commands/run.js')).run(file, opts, io)));

  program
    .command('worker')
    .description(
      'Take trials (and baselines) from a queue and run them, each in a sandboxed process, until stopped; needs no ' +
        'database and no shared files: baselines come through Redis (verified by hash, cached on this disk), ' +
        'results go back to the recorder (squash run --queue, squash collect).',
    )
    .addOption(queueOption().makeOptionMandatory())
    .addOption(queueNameOption())
    .addOption(
      new Option('--concurrency <N>', 'jobs run at once, one process each').argParser(parseConcurrency).default(1),
    )
    .option('--cache-dir <dir>', "this machine's cache of baselines and pipeline states (default: results/cache)")
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend of the trials run here, as for squash run'))
    .option('--json', 'print one JSON object per job instead of lines')
    .action(async (opts) => done(await (await import('./commands/worker.js')).worker(opts, io)));

  withOutputOptions(
    program
      .command('collect')
      .description(
        'Record into the database the results a queue holds for an experiment (enqueued by squash run --queue ' +
          '--detach, or left by a recorder that stopped), wait for the rest, then print the comparison table.',
      )
      .argument('[experiment.yaml]', 'the experiment file (default: the one the queue was enqueued from)'),
    TABLE_FORMATS,
  )
    .addOption(queueOption().makeOptionMandatory())
    .addOption(queueNameOption())
    .option('--quiet', 'print only the final table')
    .option('--json', 'print the event stream (one JSON object per line) instead of progress and the table')
    .action(async (file, opts) => done(await (await import('./commands/collect.js')).collect(file, opts, io)));

  withOutputOptions(
    program
      .command('report')
      .description(
        'The comparison table (baseline first, deltas, Pareto front of accuracy vs artifact bytes marked, constant ' +
          'columns hidden), a pivot of two swept params (mean ± std over seeds), or a self-contained HTML page with ' +
          'plots (default file: <db dir>/reports/<experiment>.html). With a file carrying a reference: block, ' +
          'published numbers are shown beside the measured ones.',
      )
      .argument(
        '<experiment name | experiment.yaml>',
        'a name reports every run stored under it; a file, the trials it plans now',
      ),
    REPORT_COMMAND_FORMATS,
  )
    .addOption(
      new Option(
        '--pivot <rows:columns[:metric]>',
        'cross two swept params, e.g. quantize-weights.bits:quantize-weights.scheme (metric: accuracy unless given)',
      ).argParser(parsePivot),
    )
    .addOption(
      new Option(
        '--limit <N|all>',
        `rows to show, the Pareto front first (default: ${DEFAULT_REPORT_ROWS} on terminal and markdown, every row otherwise)`,
      ).argParser(parseRowLimit),
    )
    .addOption(outOption())
    .action(async (target, opts) => done(await (await import('./commands/report.js')).report(target, opts, io)));

  withOutputOptions(
    program
      .command('query')
      .description(
        'Runs matching a filter: metrics.<key>, params.<key>, tags.<key>, attributes.<name>; = != < <= > >=, ' +
          'like, in (…), is null, and, or, not, parentheses; numbers compare as numbers. No filter: every run.',
      )
      .argument('[filter]', "e.g. 'metrics.accuracy > 0.97 and params.quantize-weights.bits in (4, 8)'"),
    TABLE_FORMATS,
  )
    .option('--order-by <idents>', "sort: '<ident> [desc], …'")
    .addOption(new Option('--limit <N>', 'at most N runs').argParser(parseRunLimit))
    .option('--columns <idents>', "columns to show: '<ident>, …'")
    .option('--experiment <name>', 'only runs of this experiment')
    .option('--latest', "only each trial's latest run (its latest FINISHED one, else its latest), as report shows")
    .action(async (filter, opts) => done(await (await import('./commands/query.js')).query(filter, opts, io)));

  withOutputOptions(
    program.command('ls').description('Experiments in the database, with recorded sweeps and runs per status.'),
    TABLE_FORMATS,
  ).action(async (opts) => done(await (await import('./commands/ls.js')).ls(opts, io)));

  withOutputOptions(
    program
      .command('show')
      .description(
        "One run: attributes, params, metrics, per-tensor sizes, artifact path. A trial id shows the trial's " +
          'latest finished run, and says so.',
      )
      .argument('<run id | trial id>', 'a run id or a trial id, or a prefix of one'),
    TABLE_FORMATS,
  ).action(async (id, opts) => done(await (await import('./commands/show.js')).show(id, opts, io)));

  withOutputOptions(
    program
      .command('compare')
      .description('Params that differ and every metric side by side, with the difference.')
      .argument('<run id>', 'the first run (an id or a prefix of one)')
      .argument('<other run id>', 'the second run'),
    TABLE_FORMATS,
  ).action(async (a, b, opts) => done(await (await import('./commands/compare.js')).compare(a, b, opts, io)));

  withOutputOptions(
    program
      .command('history')
      .description('Every run of one configuration across experiments, sweeps and time, with version and backend.')
      .argument('<trial id>', "a trial id or a prefix of one, or a filter whose runs' trials are followed"),
    TABLE_FORMATS,
  ).action(async (trial, opts) => done(await (await import('./commands/history.js')).history(trial, opts, io)));

  program
    .command('export')
    .description(
      "A trial's compressed model as files to ship: stock TensorFlow.js Layers format (model.json + 4 MB shards; " +
        "tfjs: float32 weights, tfjs-uint8/-uint16/-float16: tfjs' own quantized weights, exact wherever the trial's " +
        'codebook lies on their grid, else the error is said per tensor), or the .sqz itself with the @squash/sqz ' +
        'decoder (sqz). Activation quantization, which stock tfjs cannot express, is dropped from the tfjs formats, ' +
        "and the command says so; the written files are loaded back and their accuracy on the run's test split is " +
        'printed beside the recorded one. A trial id means its latest FINISHED run; the artifact must be the bytes ' +
        'the run wrote (its recorded sha256).',
    )
    .argument('<run id | trial id>', 'a run id or a trial id, or a prefix of one')
    .addOption(new Option('--format <format>', 'what to write').choices(EXPORT_FORMATS).makeOptionMandatory())
    .addOption(
      new Option(
        '--out <dir>',
        'a new or empty directory to write into (filled whole or not at all)',
      ).makeOptionMandatory(),
    )
    .addOption(dbOption())
    .action(async (id, opts) => done(await (await import('./commands/export.js')).exportRun(id, opts, io)));

  program
    .command('upgrade')
    .description(
      'Migrate a database written by an older Squash to the current schema, saying which migrations ran. ' +
        'The read commands refuse an outdated database until then.',
    )
    .addOption(dbOption())
    .action(async (opts) => done(await (await import('./commands/upgrade.js')).upgrade(opts, io)));

  program
    .command('doctor')
    .description(
      'Check the database (integrity_check, foreign keys, schema, runs left RUNNING by a dead process) and the ' +
        'files beside it (stray temp files, damaged cached baselines and pipeline states); print each finding. ' +
        'Exit 0 when healthy, 1 when a problem remains.',
    )
    .addOption(dbOption())
    .option(
      '--repair',
      'fix what is safe (mark dead runs KILLED, remove stray temp files and damaged cache entries, rebuild run ' +
        'records from their tables) and say what was done; a damaged database file is reported, never rebuilt',
    )
    .action(async (opts) => done(await (await import('./commands/doctor.js')).doctor(opts, io)));

  // The root's layout only: the commands were declared with commander's (they copied the settings above).
  program.configureHelp({ formatHelp: (cmd, helper) => rootHelp(cmd, helper) });
  return program;
}
