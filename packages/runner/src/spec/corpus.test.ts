import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SpecError } from '@squash/core';
import { loadExperimentFile, parseSpec } from './parse.js';
import { planTrials } from '../plan.js';

/**
 * The corpus of malformed experiment files: each states, in `# expect: line:col path: message`
 * header comments, exactly the errors it must produce, in order (line:col count the header lines;
 * a hint in parentheses may follow the message).
 * Valid files state `# trials: N`, the number of trials they plan.
 */
const FIXTURES = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
const files = (sub: string) =>
  readdirSync(join(FIXTURES, sub))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

describe('malformed experiment corpus', () => {
  const invalid = files('invalid');
  it('has at least 25 files', () => expect(invalid.length).toBeGreaterThanOrEqual(25));

  for (const f of invalid) {
    it(f, () => {
      const text = readFileSync(join(FIXTURES, 'invalid', f), 'utf8');
      const expected = [...text.matchAll(/^# expect: (\d+):(\d+) (.+)$/gm)].map((m) => `${f}:${m[1]}:${m[2]}: ${m[3]}`);
      expect(expected.length).toBeGreaterThan(0);
      const { experiment, errors } = parseSpec(text, f);
      expect(experiment).toBeUndefined();
      const got = errors.map((e) => e.describe());
      expect(got).toHaveLength(expected.length);
      // Exact, except for the hint in parentheses after it (hints list registry names, which grow).
      expected.forEach((want, k) =>
        expect(
          got[k] === want || got[k]!.startsWith(`${want} (`),
          `error ${k}:\n  got  ${got[k]}\n  want ${want}`,
        ).toBe(true),
      );
    });
  }

  it('loading a malformed file throws one SpecError (exit code 2) holding every problem', () => {
    const f = join(FIXTURES, 'invalid', '46-many-problems-at-once.yaml');
    let thrown: unknown;
    try {
      loadExperimentFile(f);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SpecError);
    expect((thrown as SpecError).exitCode).toBe(2);
    expect((thrown as SpecError).problems).toHaveLength(3);
  });
});

describe('valid experiment corpus (the SWEEPS.md examples)', () => {
  for (const f of files('valid')) {
    it(f, () => {
      const text = readFileSync(join(FIXTURES, 'valid', f), 'utf8');
      const want = Number(/^# trials: (\d+)$/m.exec(text)?.[1]);
      const { experiment, errors } = parseSpec(text, f);
      expect(errors.map((e) => e.describe())).toEqual([]);
      expect(planTrials(experiment!)).toHaveLength(want);
    });
  }
});
