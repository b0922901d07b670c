#!/usr/bin/env node
import { main } from './cli.js';
import { exitCodeFor } from './errors.js';
import { endBySignal, handleClosedOutput } from './signals.js';

handleClosedOutput();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = exitCodeFor(e, (s) => process.stderr.write(s));
    endBySignal(e);
  },
);
