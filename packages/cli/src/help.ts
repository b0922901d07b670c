/**
 * `squash --help`: every command's synopsis and description, then every option once, all derived
 * from the commander declaration (program.ts), so a new command or flag shows up by being declared.
 * One command's help (`squash run --help`) is commander's own layout.
 */
import type { CommandUnknownOpts, Help, Option } from '@commander-js/extra-typings';

export const EXIT_CODES =
  'Exit codes: 0 success, 1 failed trials or internal error, 2 bad input (file, flags, data); ' +
  'stopped by a signal, 128 + its number (SIGINT/Ctrl-C 130, SIGHUP 129, SIGTERM 143); output closed, 141.';

/** `[--db <path>]`, `[--format terminal|markdown|csv]`, `[--force]`. */
function optionSynopsis(o: Option): string {
  const value = o.argChoices?.join('|') ?? /[<[].*[>\]]/.exec(o.flags)?.[0];
  return `[${o.long ?? o.flags}${value ? ` ${value}` : ''}]`;
}

/** `squash run <experiment.yaml> [--db <path>] …`, wrapped under the command's name. */
function synopsis(cmd: CommandUnknownOpts, width: number): string {
  const head = `squash ${cmd.name()}`;
  const words = [
    ...cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)),
    ...cmd.options.filter((o) => !o.hidden).map(optionSynopsis),
  ];
  const lines = [head];
  for (const w of words) {
    const last = lines.length - 1;
    if (lines[last]!.length + 1 + w.length > width && lines[last]!.trim().length > head.length)
      lines.push(' '.repeat(head.length));
    lines[lines.length - 1] += ` ${w}`;
  }
  return lines.map((l) => `  ${l}`).join('\n');
}

/**
 * Every option once. The same flag with a different meaning (`--limit` of report and of query) is
 * listed once per meaning; an option of one or two commands names them.
 */
function optionList(program: CommandUnknownOpts, helper: Help): Array<[string, string]> {
  const byMeaning = new Map<string, { option: Option; commands: string[] }>();
  for (const cmd of program.commands) {
    for (const o of cmd.options) {
      if (o.hidden) continue;
      const key = `${o.flags}\n${o.description}`;
      const entry = byMeaning.get(key) ?? { option: o, commands: [] };
      entry.commands.push(cmd.name());
      byMeaning.set(key, entry);
    }
  }
  const items = [...byMeaning.values()].map(({ option: o, commands }): [string, string] => {
    const scope = commands.length <= 2 ? `${commands.join(', ')}: ` : '';
    // Choices are in each command's synopsis; the default is said here.
    const hasDefault = o.defaultValue !== undefined && !o.isBoolean();
    const byDefault = hasDefault ? ` (default: ${o.defaultValueDescription ?? String(o.defaultValue)})` : '';
    return [helper.optionTerm(o), `${scope}${o.description}${byDefault}`];
  });
  const help = helper
    .visibleOptions(program)
    .map((o): [string, string] => [helper.optionTerm(o), helper.optionDescription(o)]);
  return [...items, ...help];
}

export function rootHelp(program: CommandUnknownOpts, helper: Help): string {
  const width = helper.helpWidth ?? 80;
  const described = (syn: string, description: string) =>
    `${syn}\n${indent(helper.boxWrap(description, width - 6), 6)}`;
  const commands = program.commands.map((cmd) => described(synopsis(cmd, width - 2), cmd.description()));
  const options = optionList(program, helper);
  const termWidth = Math.max(...options.map(([term]) => term.length));
  return [
    `squash — ${program.description()}`,
    '',
    'Usage:',
    ...commands,
    described(
      '  squash help <command>',
      "One command's arguments, options, defaults and choices (also: squash <command> --help).",
    ),
    '',
    'Options:',
    ...options.map(([term, description]) => helper.formatItem(term, termWidth, description, helper)),
    '',
  ].join('\n');
}

function indent(text: string, n: number): string {
  return text.replace(/^/gm, ' '.repeat(n));
}
