import { SQUASH_VERSION } from '@squash/core';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_FORMAT, payloadProblem } from './payload.js';

const good = {
  format: PAYLOAD_FORMAT,
  squash: SQUASH_VERSION,
  kind: 'trial',
  id: '0123456789abcdef',
  experiment: 'e',
  text: 'name: e',
  file: '/x/e.yaml',
};

describe('payloadProblem', () => {
  it('accepts what the recorder enqueues', () => {
    expect(payloadProblem(good)).toBeUndefined();
    expect(payloadProblem({ ...good, kind: 'baseline' })).toBeUndefined();
  });

  it.each([
    [null, /not an object/],
    [[1], /not an object/],
    [{ ...good, format: 2 }, /format 2; this worker reads format 1/],
    [{ ...good, squash: '0.0.1' }, /planned by Squash 0\.0\.1; this worker is Squash/],
    [{ ...good, kind: 'shell' }, /kind is "shell"/],
    [{ ...good, id: '../../etc' }, /id is "\.\.\/\.\.\/etc"/],
    [{ ...good, experiment: '' }, /experiment is missing/],
    [{ ...good, text: 'x'.repeat((1 << 20) + 1) }, /too long/],
    [{ ...good, file: 3 }, /file is missing/],
  ])('refuses %j', (data, message) => {
    expect(payloadProblem(data)).toMatch(message);
  });
});
