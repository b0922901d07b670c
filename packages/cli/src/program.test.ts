import { describe, expect, it } from 'vitest';
import { squashInProcess } from './__tests__/in_process.js';

const squash = squashInProcess;

describe('usage errors come from the declaration: exit 2, one line, no stack', () => {
  it.each([
    [['reprot', 'x'], /^squash: unknown command 'reprot'; did you mean 'report'\? \(see squash --help\)$/],
    [['help', 'lss'], /^squash: unknown command 'lss'; did you mean 'ls'\?/],
    [
      ['run', 'e.yaml', '--forse'],
      /^squash: unknown option '--forse'; did you mean '--force'\? \(see squash run --help\)$/,
    ],
    [
      ['report', 'x', '--fomit'],
      /^squash: unknown option '--fomit'; did you mean one of --format, --limit\? \(see squash report --help\)$/,
    ],
    [['ls', '--pivot', 'a:b'], /^squash: unknown option '--pivot' \(see squash ls --help\)$/],
    [['run', 'e.yaml', '--jobs'], /^squash: option '-j, --jobs <N>' argument missing/],
    [['ls', '--db'], /^squash: option '--db <path>' argument missing/],
    [
      ['report', 'x', '--format', 'pdf'],
      /^squash: option '--format <fmt>' argument 'pdf' is invalid\. Allowed choices are terminal, markdown, csv, json, html\./,
    ],
    [
      ['run', 'e.yaml', '--format', 'html'],
      /argument 'html' is invalid\. Allowed choices are terminal, markdown, csv, json\./,
    ],
    [['ls', 'extra'], /^squash: too many arguments for 'ls'\. Expected 0 arguments but got 1\./],
    [['compare', 'a'], /^squash: missing required argument 'other run id' \(see squash compare --help\)$/],
    [['run'], /^squash: missing required argument 'experiment\.yaml'/],
    [['run', 'e.yaml', '--jobs', '0'], /^squash: --jobs: --jobs must be an integer in \[1, 64\], got '0'$/],
    [
      ['report', 'x', '--limit', 'some'],
      /^squash: --limit: --limit expects a positive whole number or 'all', got 'some'$/,
    ],
    [['report', 'x', '--pivot', 'bits'], /^squash: --pivot: --pivot expects rows:columns\[:metric\]/],
    [['query', '--limit', '-1'], /^squash: --limit: --limit must be a whole number, got '-1'$/],
    [['--db', 'x', 'ls'], /^squash: unknown option '--db' \(see squash --help\)$/],
  ])('squash %j', async (argv, message) => {
    const r = await squash(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toHaveLength(2); // one line and its newline
    expect(r.err.trimEnd()).toMatch(message);
  });
});

describe('help', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('squash %j prints every command and exits 0', async (argv) => {
    const r = await squash(argv);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^squash — declarative experiments for neural-network compression/);
    expect(r.out).toMatch(/^ {2}squash run <experiment\.yaml> \[--db <path>\]/m);
    expect(r.out).toMatch(
      /^ {2}-j, --jobs <N> +run: N worker processes claim trials from\s+the\s+database\s+\(default:\s+1\)$/m,
    );
    expect(r.out).toMatch(/^Exit codes: 0 success, 1 failed trials or internal error, 2 bad input/m);
  });

  it.each([[['ls', '--help']], [['ls', '-h']], [['help', 'ls']]])(
    'squash %j prints one command and exits 0',
    async (argv) => {
      const r = await squash(argv);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: squash ls \[options\]/);
      expect(r.out.replace(/\s+/g, ' ')).toMatch(
        /--format <fmt> output format \(choices: "terminal", "markdown", "csv", "json", default: "terminal"\)/,
      );
      expect(r.out).not.toMatch(/--jobs/);
      expect(r.out).toMatch(/Exit codes: /);
    },
  );
});
