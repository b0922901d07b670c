import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COMMANDS, HELP } from './cli.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe('documentation', () => {
  it('every command has help text and is in the README', () => {
    for (const c of COMMANDS) {
      expect(HELP, c).toMatch(new RegExp(`squash ${c}\\b`));
      expect(README, c).toMatch(new RegExp(`squash ${c}\\b`));
    }
  });
  it('every run flag is in the help', () => {
    for (const flag of [
      '--db',
      '--backend',
      '--jobs',
      '--force',
      '--fail-fast',
      '--dry-run',
      '--yes',
      '--quiet',
      '--json',
      '--format',
      '--out',
      '--pivot',
      '--order-by',
      '--limit',
      '--columns',
      '--experiment',
    ]) {
      expect(HELP, flag).toContain(flag);
    }
  });
});
