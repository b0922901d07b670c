/** Where a command writes: tables and results to `out`, progress and messages to `err`. Tests pass their own. */
export interface IO {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const processIO: IO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

/** Columns to fit a table into: the terminal's, or none when piped (piped output keeps every character). */
export function outputWidth(): number {
  return process.stdout.isTTY ? process.stdout.columns : Infinity;
}
