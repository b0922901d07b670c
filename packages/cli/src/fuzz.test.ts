import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, type Rng } from '@squash/core';
import { parseSpec, planTrials } from '@squash/runner/spec';
import { main } from './cli.js';
import { exitCodeFor } from './errors.js';

/**
 * Hostile input to the real parser and the real CLI entry point, from one seed: mutated experiment
 * files, mutated query filters and random argument lists. Whatever comes in: exit 0 or 2 (never 1,
 * the code of a bug), never a stack trace, and never a write — the database and everything beside
 * it keep their bytes, sizes and times, and a dry run creates nothing.
 */

// Deterministic; SQUASH_FUZZ_SEED explores other inputs locally (a failure prints the seed).
const SEED = Number(process.env.SQUASH_FUZZ_SEED ?? 20_261_206);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VALID_DIR = join(ROOT, 'packages/runner/src/spec/__fixtures__/valid');
const SOURCES = [
  ...readdirSync(VALID_DIR).map((f) => join(VALID_DIR, f)),
  ...readdirSync(join(ROOT, 'experiments')).map((f) => join(ROOT, 'experiments', f)),
]
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(f, 'utf8'));

const pick = <T>(rng: Rng, a: readonly T[]): T => a[rng.int(a.length)]!;

/** Values a scalar is replaced with: out of range, of the wrong type, or built to exhaust something. */
const HOSTILE_SCALARS = [
  '1e309',
  '-1e309',
  '.inf',
  '-.inf',
  '.nan',
  '.NaN',
  '-1',
  '0',
  '-0',
  '99999999999999999999',
  '1e-320',
  '0x7fffffff',
  '1.5',
  '2.5e3',
  'true',
  '~',
  'null',
  "''",
  '"str"',
  'half',
  '"\\e[31mred\\e[0m"',
  '"\\x07\\x08\\x1b]0;title\\x07"',
  '"\\u202eevil"',
  '"=HYPERLINK(\\"http://x\\")"',
  '"@SUM(1+1)"',
  `"${'a'.repeat(100_000)}"`,
  'a'.repeat(5000),
  `${'['.repeat(400)}${']'.repeat(400)}`,
  `${'{a: '.repeat(200)}1${'}'.repeat(200)}`,
  '[]',
  '{}',
  '[1, [2, [3, [4]]]]',
  '{ range: { start: 0, stop: 1e12, step: 1 } }',
  '{ range: { start: 1, stop: 0, step: 0 } }',
  '{ linspace: { start: 0, stop: 1, num: 1e9 } }',
  '{ logspace: { start: -400, stop: 400, num: 3 } }',
  '&anchor [8, 4]',
  '*anchor',
  '*nowhere',
  '!!binary aGVsbG8=',
  '!!js/function "function () {}"',
  '!!set { a, b }',
  '!custom x',
  '|\n  block\n  text',
  '>-\n  folded',
  '"unterminated',
  "'also",
  '[unclosed',
  '{ a: 1, a: 2 }',
  '? complex\n: key',
  '%YAML 1.1',
  '---',
  '...',
  '@reserved',
  '`backtick',
  '\t',
];

const ALIAS_BOMB = [
  'bomb0: &b0 [x, x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 9 }, (_, i) => `bomb${i + 1}: &b${i + 1} [${Array(10).fill(`*b${i}`).join(', ')}]`),
].join('\n');

/** One random edit of an experiment file's text: lines moved, indentation broken, values replaced. */
function mutateOnce(rng: Rng, text: string): string {
  const lines = text.split('\n');
  const at = rng.int(lines.length);
  switch (rng.int(11)) {
    case 0: // delete a line
      lines.splice(at, 1);
      break;
    case 1: // duplicate a line
      lines.splice(at, 0, lines[at]!);
      break;
    case 2: {
      // swap two lines
      const other = rng.int(lines.length);
      [lines[at], lines[other]] = [lines[other]!, lines[at]!];
      break;
    }
    case 3: // change indentation
      lines[at] =
        rng.next() < 0.5 ? `${pick(rng, [' ', '  ', '   ', '\t', '      '])}${lines[at]}` : lines[at]!.trimStart();
      break;
    case 4: {
      // replace the value after a key
      const m = /^(\s*-?\s*[\w.-]+:\s*)(.+)$/.exec(lines[at]!);
      if (m) lines[at] = `${m[1]}${pick(rng, HOSTILE_SCALARS)}`;
      else lines[at] = `${lines[at]} ${pick(rng, HOSTILE_SCALARS)}`;
      break;
    }
    case 5: {
      // replace one number anywhere
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
      if (!numbers.length) break;
      const n = pick(rng, numbers);
      return text.slice(0, n.index) + pick(rng, HOSTILE_SCALARS) + text.slice(n.index! + n[0].length);
    }
    case 6: // cut the file short
      return text.slice(0, rng.int(text.length + 1));
    case 7: // a line of another file
      lines.splice(at, 0, pick(rng, pick(rng, SOURCES).split('\n')));
      break;
    case 8: // anchors and aliases
      lines.splice(at, 0, rng.next() < 0.5 ? ALIAS_BOMB : 'shared: &shared { bits: 8 }\nmore: *shared');
      break;
    case 9: {
      // a control character or odd code point inside a line
      const line = lines[at]!;
      const c = pick(rng, ['\u0000', '\u0007', '\u001b', '\u007f', '\u00a0', '\u2028', '\ufeff', '\ud800', '\r']);
      const k = rng.int(line.length + 1);
      lines[at] = line.slice(0, k) + c + line.slice(k);
      break;
    }
    default: {
      // a key misspelled or replaced
      const m = /^(\s*-?\s*)([\w.-]+)(:.*)$/.exec(lines[at]!);
      if (m)
        lines[at] = `${m[1]}${pick(rng, [m[2]!.slice(1), `${m[2]}x`, 'name', 'sweeps', '<<', 'layers', '"" '])}${m[3]}`;
    }
  }
  return lines.join('\n');
}

function mutateExperiment(rng: Rng): string {
  let text = pick(rng, SOURCES);
  for (let k = 1 + rng.int(3); k > 0; k--) text = mutateOnce(rng, text);
  return text;
}

const FILTERS = [
  'metrics.accuracy > 0.5',
  'params.quantize-weights.bits in (4, 8) and metrics.accuracy > 0.1',
  "attributes.sweep = 's' or tags.owner like 'me%'",
  'not (metrics.loss is null)',
  "attributes.status != 'FAILED' and params.seed = 1",
  'metrics.compression_ratio >= 2 or metrics.accuracy < 0.2',
  "attributes.label like 'quantize%'",
];
const QUERY_PIECES = [
  ' and ',
  ' or ',
  ' not ',
  '(',
  ')',
  "'",
  '"',
  ' in (',
  ' like ',
  ' is null',
  ' between 1 and 2',
  '=',
  '!=',
  '<=',
  '>',
  '1e309',
  'NaN',
  '-',
  '.',
  'metrics.',
  'params.',
  'attributes.nope',
  'tags.x',
  ',',
  '\u001b[2J',
  '%',
  '_',
  '\\',
  'a'.repeat(10_000),
  '('.repeat(5000),
  `${'not '.repeat(3000)}metrics.accuracy > 0`,
  Array(2000).fill('metrics.accuracy > 0').join(' or '),
  `metrics.accuracy in (${Array(5000).fill(1).join(', ')})`,
];

function mutateFilter(rng: Rng): string {
  let f = pick(rng, FILTERS);
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const i = rng.int(f.length + 1);
    const j = Math.min(f.length, i + rng.int(6));
    const r = rng.int(4);
    if (r === 0)
      f = f.slice(0, i) + f.slice(j); // delete
    else if (r === 1)
      f = f.slice(0, i) + pick(rng, QUERY_PIECES) + f.slice(i); // insert
    else if (r === 2)
      f = f.slice(0, i) + pick(rng, QUERY_PIECES) + f.slice(j); // replace
    else f = `${f} ${pick(rng, [' and ', ' or '])}${pick(rng, FILTERS)}`; // grow
  }
  return f;
}

interface Outcome {
  code: number;
  output: string;
}

async function squash(argv: string[]): Promise<Outcome> {
  let output = '';
  const io = { out: (s: string) => void (output += s), err: (s: string) => void (output += s) };
  try {
    return { code: await main(argv, io), output };
  } catch (e) {
    return { code: exitCodeFor(e, io.err), output };
  }
}

/** Every file under `dir` with its size and modification time (SQLite's shared-memory index: its size). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      // A reader of a WAL database maps `-shm` and updates it by design: not data.
      out.set(relative(dir, p), name.endsWith('-shm') ? `${s.size}` : `${s.size} ${s.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe(`fuzz (seed ${SEED}): hostile input to the parser and the CLI`, () => {
  it('never exits 1, never prints a stack trace, never writes', async () => {
    const t0 = performance.now();
    const rng = createRng(SEED);
    const work = mkdtempSync(join(tmpdir(), 'squash-fuzz-'));
    const home = join(work, 'results');
    const inputs = join(work, 'inputs');
    mkdirSync(inputs);
    const db = join(home, 'squash.db');
    // A small real database: one finished sweep (two trials and the baseline).
    const ok = join(inputs, 'ok.yaml');
    writeFileSync(
      ok,
      `name: ok
model: { name: m, layers: [{ type: flatten }, { type: dense, units: 8, activation: relu }, { type: dense, units: 10, activation: softmax }] }
dataset: { name: synthetic, samples: { train: 200, test: 100 } }
train: { epochs: 1 }
sweeps: [{ name: s, stages: [{ quantize-weights: { bits: [8, 4] } }] }]
`,
    );
    expect((await squash(['run', ok, '--db', db, '--quiet', '--backend', 'wasm'])).code).toBe(0);
    const runId = /\b([0-9a-f]{32})\b/.exec((await squash(['query', '--db', db, '--format', 'csv'])).output)?.[1];
    // A database nobody has: dry runs against it must not create it (nor its directory).
    const absent = join(work, 'absent', 'squash.db');
    const text = join(inputs, 'notes.db');
    writeFileSync(text, 'not a database\n'.repeat(100));
    const cwdResults = existsSync(join(process.cwd(), 'results'));

    // The first read leaves SQLite's -wal/-shm beside the file; from then on nothing may change.
    await squash(['ls', '--db', db]);
    // Node.js warnings (the yaml package's, say) would reach the user's terminal too.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const before = snapshot(home);
    const bytes = digest(db);
    const counts = { parser: 0, cli: 0, planned: 0, exit0: 0 };
    const check = async (argv: string[]) => {
      counts.cli++;
      const r = await squash(argv);
      if (r.code === 0) counts.exit0++;
      const what = JSON.stringify(argv).slice(0, 300);
      // doctor's exit 1 is its answer ("a problem remains"), for the files it is pointed at.
      const allowed = argv[0] === 'doctor' && !r.output.includes('internal error') ? [0, 1, 2] : [0, 2];
      expect(allowed, `${what}\n${r.output.slice(0, 2000)}`).toContain(r.code);
      expect(r.output, what).not.toMatch(/^ {4}at /m);
      expect(snapshot(home), what).toEqual(before);
      expect(existsSync(join(work, 'absent')), what).toBe(false);
    };

    // 1. Experiment files: every one through the parser, one in four through the CLI.
    for (let i = 0; i < 2000; i++) {
      const yaml = mutateExperiment(rng);
      counts.parser++;
      const { experiment, errors } = parseSpec(yaml, 'fuzz.yaml');
      if (experiment) counts.planned += planTrials(experiment).length > 0 ? 1 : 0;
      else expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e.describe()).toMatch(/^fuzz\.yaml(:\d+:\d+)?: /);
      if (i % 4) continue;
      const file = join(inputs, `e${i}.yaml`);
      writeFileSync(file, yaml);
      if (i % 2) await check(['run', file, '--dry-run', '--db', pick(rng, [db, absent])]);
      else await check(['report', file, '--db', db, '--format', pick(rng, ['terminal', 'csv', 'json', 'markdown'])]);
    }

    const tFiles = performance.now();
    // 2. Query filters and the query command's other strings.
    for (let i = 0; i < 600; i++) {
      const argv = ['query', mutateFilter(rng), '--db', db];
      if (rng.next() < 0.3)
        argv.push('--order-by', pick(rng, ['metrics.accuracy desc', mutateFilter(rng), 'label,', '']));
      if (rng.next() < 0.3) argv.push('--columns', pick(rng, ['label, metrics.accuracy', mutateFilter(rng), ',,', '']));
      if (rng.next() < 0.2) argv.push('--limit', pick(rng, ['0', '5', '-1', '1e309', 'x', '']));
      await check(argv);
    }

    const tQueries = performance.now();
    // 3. Argument lists: commands, flags and values, valid or not, in any order.
    const values = [
      db,
      absent,
      text,
      home,
      inputs,
      ok,
      'ok',
      'nope',
      runId ?? 'abc',
      (runId ?? 'abc').slice(0, 4),
      '',
      '-',
      '--',
      '%',
      '_',
      "'; DROP TABLE runs; --",
      '\u001b[31m',
      'x'.repeat(5000),
      '../../../../etc/passwd',
      '-1',
      '0',
      '1e309',
      'all',
      'a:b',
      'a:b:c:d',
      'quantize-weights.bits:attributes.sweep',
      'terminal',
      'html',
      'wasm',
      'cpu',
    ];
    const flags = [
      '--db',
      '--format',
      '--limit',
      '--pivot',
      '--order-by',
      '--columns',
      '--experiment',
      '--backend',
      '--jobs',
      '--force',
      '--fail-fast',
      '--yes',
      '--quiet',
      '--json',
      '--help',
      '-h',
      '--version',
      '--nope',
      '-j',
      '-y',
      '--db=',
    ];
    const commands = ['report', 'query', 'ls', 'show', 'compare', 'history', 'doctor', 'help', 'reprot', '', '-x'];
    for (let i = 0; i < 800; i++) {
      const command = pick(rng, [...commands, 'run']);
      const argv = [command];
      for (let k = rng.int(6); k > 0; k--) {
        const r = rng.next();
        if (r < 0.4) argv.push(pick(rng, values));
        else if (r < 0.8) argv.push(pick(rng, flags), pick(rng, values));
        else argv.push(pick(rng, flags));
      }
      // Never a real run, an upgrade, a repair or a file written by a report: those write by design.
      if (command === 'run') argv.push('--dry-run');
      const out = argv.indexOf('--out');
      if (out >= 0) argv.splice(out, 2);
      if (argv.includes('html') && (command === 'report' || argv.includes('report'))) continue;
      if (!argv.includes('--db')) argv.push('--db', pick(rng, [db, absent, text]));
      await check(argv);
    }

    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
    expect(digest(db)).toBe(bytes);
    expect(existsSync(join(process.cwd(), 'results'))).toBe(cwdResults);
    // Inputs: 2,000 experiment files, 600 filters, 800 argument lists.
    expect(counts.parser + counts.cli).toBeGreaterThanOrEqual(3000);
    console.log(
      `fuzz (seed ${SEED}): ${counts.parser} files parsed (${counts.planned} valid), ${counts.cli} CLI runs ` +
        `(${counts.exit0} exit 0) in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
        `(files ${((tFiles - t0) / 1000).toFixed(1)} s, queries ${((tQueries - tFiles) / 1000).toFixed(1)} s)`,
    );
  });
});
