import { CommanderError } from '@commander-js/extra-typings';
import { ConfigError } from '@squash/core';
import { type IO, processIO } from './io.js';
import { buildProgram } from './program.js';

/**
 * A commander usage error as a Squash input error (exit 2): one line, its suggestion in our words,
 * and where to read the command's help.
 */
function usageError(e: CommanderError, argv: string[], commands: readonly string[]): ConfigError {
  // A bare `squash --` reaches commander's "no command" help, already written to standard error.
  if (e.code === 'commander.help') return new ConfigError('no command given', { hint: 'see squash --help' });
  const message = e.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean one of (.+)\?\)$/, '; did you mean one of $1?')
    .replace(/\n\(Did you mean (.+)\?\)$/, "; did you mean '$1'?");
  const command = commands.includes(argv[0]!) ? `squash ${argv[0]}` : 'squash';
  return new ConfigError(message, { hint: `see ${command} --help` });
}

/** Parses `argv` against the declaration (program.ts) and runs the command; returns its exit code. */
export async function main(argv: string[], io: IO = processIO): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  const commands = program.commands.map((c) => c.name());
  // `squash` alone prints the help, as `squash --help` does; `squash help <typo>` is an unknown
  // command (with a suggestion), not the whole help on standard error.
  let args = argv.length ? argv : ['--help'];
  if (args[0] === 'help' && args[1] !== undefined && !commands.includes(args[1])) args = args.slice(1);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) return 0; // help shown
    throw usageError(e, args, commands);
  }
  return code;
}
