import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { buildProgram } from './program.js';
import { ACTIVATIONS, LAYER_FIELDS, MODEL_FILE_LAYER_CLASSES } from '@squash/trainer/specs';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
/** The README's section on the command, up to the next section of the same level. */
const CLI_SECTION = /^## The `squash` command\n[\s\S]*?(?=^## )/m.exec(README)?.[0] ?? '';

// Everything below is read from the declaration (program.ts), so a new command or flag is checked by being declared.
const program = buildProgram({ out: () => {}, err: () => {} });
const COMMANDS = program.commands.map((c) => ({
  name: c.name(),
  description: c.description(),
  flags: c.options.map((o) => o.long ?? o.flags),
}));

async function help(argv: string[]): Promise<string> {
  let out = '';
  const code = await main(argv, { out: (s) => void (out += s), err: () => {} });
  expect(code, argv.join(' ')).toBe(0);
  return out;
}

/** The lines `squash --help` gives one command: its synopsis, up to its description. */
function synopsisIn(rootHelp: string, command: string): string {
  const start = rootHelp.indexOf(`\n  squash ${command} `);
  const fallback = rootHelp.indexOf(`\n  squash ${command}\n`);
  const from = start >= 0 ? start : fallback;
  expect(from, command).toBeGreaterThanOrEqual(0);
  return rootHelp.slice(from + 1).split(/\n {6}\S/)[0]!;
}

describe('documentation', () => {
  it('finds the README section on the command', () => {
    expect(CLI_SECTION).toMatch(/squash run/);
  });

  it('every command has a description, a synopsis in squash --help and a line in the README', async () => {
    const root = await help(['--help']);
    expect(COMMANDS.map((c) => c.name)).toEqual(
      expect.arrayContaining(['run', 'report', 'query', 'ls', 'show', 'compare', 'history', 'upgrade']),
    );
    for (const c of COMMANDS) {
      expect(c.description.length, c.name).toBeGreaterThan(20);
      expect(root, c.name).toContain(c.description.split(' ').slice(0, 3).join(' '));
      expect(synopsisIn(root, c.name), c.name).toMatch(new RegExp(`^  squash ${c.name}\\b`));
      expect(CLI_SECTION, c.name).toMatch(new RegExp(`squash ${c.name}\\b`));
    }
  });

  it("every flag of every command is in its synopsis in squash --help, in the command's help and in the README", async () => {
    const root = await help(['--help']);
    for (const c of COMMANDS) {
      const own = await help([c.name, '--help']);
      expect(await help(['help', c.name]), c.name).toBe(own);
      const synopsis = synopsisIn(root, c.name);
      for (const flag of c.flags) {
        expect(synopsis, `${c.name} ${flag}`).toContain(`[${flag}`);
        expect(own, `${c.name} ${flag}`).toContain(flag);
        expect(CLI_SECTION, `${c.name} ${flag} in README.md`).toContain(flag);
      }
    }
  });

  it('every flag the README mentions is declared', () => {
    const declared = new Set([...COMMANDS.flatMap((c) => c.flags), ...program.options.map((o) => o.long), '--help']);
    const mentioned = new Set(CLI_SECTION.match(/(?<![\w-])--[a-z][a-z-]*/g));
    expect(mentioned.size).toBeGreaterThan(10);
    for (const flag of mentioned) expect(declared, flag).toContain(flag);
  });

  it('the README lists every layer type with its fields, every activation, and every class a model file may hold', () => {
    for (const [type, fields] of Object.entries(LAYER_FIELDS)) {
      const row = new RegExp(`^\\| \`${type}\`[^\\n]*$`, 'm').exec(README)?.[0];
      expect(row, `README row for layer type ${type}`).toBeDefined();
      for (const field of Object.keys(fields)) expect(row, `${type}.${field}`).toContain(`\`${field}\``);
    }
    for (const a of ACTIVATIONS) expect(README, `activation ${a}`).toContain(`\`${a}\``);
    for (const c of MODEL_FILE_LAYER_CLASSES) expect(README, `file layer class ${c}`).toContain(c);
  });
});
